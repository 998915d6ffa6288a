<?xml version="1.0" encoding="UTF-8"?>
<!-- gis_location → CSV/XLSX columns; the same headers location.xsl reads. -->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <table name="gis_location">
      <xsl:apply-templates select="s3xml/resource[@name = 'gis_location'][not(s3:is-deleted(.))]"/>
    </table>
  </xsl:template>

  <xsl:template match="resource">
    <xsl:variable name="location" select="."/>
    <row>
      <xsl:sequence select="csv:col('Name', s3:value(., 'name'))"/>
      <xsl:sequence select="csv:col('Level', s3:value(., 'level'))"/>
      <xsl:sequence select="csv:col('Code', s3:value(., 'code'))"/>
      <xsl:for-each select="$csv:location-order">
        <xsl:sequence select="csv:col(., s3:value($location, $csv:location-fields(.)))"/>
      </xsl:for-each>
      <xsl:sequence select="csv:col('WKT', s3:value(., 'wkt'))"/>
      <xsl:sequence select="csv:col('Comments', s3:value(., 'comments'))"/>
      <xsl:sequence select="csv:col('UUID', @uuid)"/>
    </row>
  </xsl:template>

</xsl:stylesheet>
