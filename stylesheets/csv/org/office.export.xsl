<?xml version="1.0" encoding="UTF-8"?>
<!-- org_office → CSV/XLSX columns; the same headers office.xsl reads. -->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <table name="org_office">
      <xsl:apply-templates select="s3xml/resource[@name = 'org_office'][not(s3:is-deleted(.))]"/>
    </table>
  </xsl:template>

  <xsl:template match="resource">
    <row>
      <xsl:sequence select="csv:col('Name', s3:value(., 'name'))"/>
      <xsl:sequence select="csv:col('Code', s3:value(., 'code'))"/>
      <xsl:sequence select="csv:col('Organisation', csv:referenced-name(., 'organisation_id'))"/>
      <xsl:sequence select="csv:col('Type', csv:referenced-name(., 'office_type_id'))"/>
      <xsl:sequence select="csv:col('Phone', s3:value(., 'phone1'))"/>
      <xsl:sequence select="csv:col('Phone 2', s3:value(., 'phone2'))"/>
      <xsl:sequence select="csv:col('Email', s3:value(., 'email'))"/>
      <xsl:sequence select="csv:col('Fax', s3:value(., 'fax'))"/>
      <xsl:sequence select="csv:location-cols(.)"/>
      <xsl:sequence select="csv:col('Comments', s3:value(., 'comments'))"/>
      <xsl:sequence select="csv:col('UUID', @uuid)"/>
    </row>
  </xsl:template>

</xsl:stylesheet>
