<?xml version="1.0" encoding="UTF-8"?>
<!-- org_organisation → CSV/XLSX columns; the same headers organisation.xsl reads. -->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <table name="org_organisation">
      <xsl:apply-templates select="s3xml/resource[@name = 'org_organisation'][not(s3:is-deleted(.))]"/>
    </table>
  </xsl:template>

  <xsl:template match="resource">
    <row>
      <xsl:sequence select="csv:col('Organisation', s3:value(., 'name'))"/>
      <xsl:sequence select="csv:col('Acronym', s3:value(., 'acronym'))"/>
      <xsl:sequence select="csv:col('Type', (csv:referenced-name(., 'organisation_type_id'),
          resource[@name = 'org_organisation_organisation_type'][not(s3:is-deleted(.))]
              ! csv:referenced-name(., 'organisation_type_id'))[1])"/>
      <xsl:sequence select="csv:col('Country', s3:value(., 'country'))"/>
      <xsl:sequence select="csv:col('Phone', s3:value(., 'phone'))"/>
      <xsl:sequence select="csv:col('Website', s3:value(., 'website'))"/>
      <xsl:sequence select="csv:col('Comments', s3:value(., 'comments'))"/>
      <xsl:sequence select="csv:col('UUID', @uuid)"/>
    </row>
  </xsl:template>

</xsl:stylesheet>
