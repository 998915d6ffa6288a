<?xml version="1.0" encoding="UTF-8"?>
<!-- event_incident_report → CSV/XLSX columns; the same headers incident_report.xsl reads. -->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <table name="event_incident_report">
      <xsl:apply-templates select="s3xml/resource[@name = 'event_incident_report'][not(s3:is-deleted(.))]"/>
    </table>
  </xsl:template>

  <xsl:template match="resource">
    <row>
      <xsl:sequence select="csv:col('Short Description', s3:value(., 'name'))"/>
      <xsl:sequence select="csv:col('Date', s3:eden-timestamp(s3:value(., 'date')))"/>
      <!-- Eden's field is the incident_type_id reference (what Ushahidi tickets carry); records
           that hold the type as a plain incident_type value (the demo data) are read too. -->
      <xsl:sequence select="csv:col('Type', (csv:referenced-name(., 'incident_type_id'), s3:value(., 'incident_type'))[1])"/>
      <xsl:sequence select="csv:col('Reported By', s3:value(., 'reported_by'))"/>
      <xsl:sequence select="csv:col('Contact', s3:value(., 'contact'))"/>
      <xsl:sequence select="csv:col('Description', s3:value(., 'description'))"/>
      <xsl:sequence select="csv:location-cols(.)"/>
      <xsl:sequence select="csv:col('Comments', s3:value(., 'comments'))"/>
      <xsl:sequence select="csv:col('UUID', @uuid)"/>
    </row>
  </xsl:template>

</xsl:stylesheet>
