<?xml version="1.0" encoding="UTF-8"?>
<!-- med_hospital → CSV/XLSX columns; the same headers hospital.xsl reads. -->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="hospital-options.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <table name="med_hospital">
      <xsl:apply-templates select="s3xml/resource[@name = 'med_hospital'][not(s3:is-deleted(.))]"/>
    </table>
  </xsl:template>

  <xsl:template match="resource">
    <xsl:variable name="status" select="resource[@name = 'med_hospital_status'][not(s3:is-deleted(.))][1]"/>
    <row>
      <xsl:sequence select="csv:col('Name', s3:value(., 'name'))"/>
      <xsl:sequence select="csv:col('Code', s3:value(., 'code'))"/>
      <xsl:sequence select="csv:col('Type', csv:option-label(., 'facility_type', $facility-types))"/>
      <xsl:sequence select="csv:col('Status', csv:option-label($status, 'facility_status', $facility-statuses))"/>
      <xsl:sequence select="csv:col('Total Beds', s3:value(., 'total_beds'))"/>
      <xsl:sequence select="csv:col('Available Beds', s3:value(., 'available_beds'))"/>
      <xsl:sequence select="csv:col('Organisation', csv:referenced-name(., 'organisation_id'))"/>
      <xsl:sequence select="csv:col('Phone', s3:value(., 'phone_exchange'))"/>
      <xsl:sequence select="csv:col('Emergency Phone', s3:value(., 'phone_emergency'))"/>
      <xsl:sequence select="csv:col('Email', s3:value(., 'email'))"/>
      <xsl:sequence select="csv:col('Website', s3:value(., 'website'))"/>
      <xsl:sequence select="csv:location-cols(.)"/>
      <xsl:sequence select="csv:col('Comments', s3:value(., 'comments'))"/>
      <xsl:sequence select="csv:col('UUID', @uuid)"/>
    </row>
  </xsl:template>

</xsl:stylesheet>
