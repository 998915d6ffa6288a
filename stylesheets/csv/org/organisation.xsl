<?xml version="1.0" encoding="UTF-8"?>
<!--
  CSV/XLSX columns → org_organisation (Eden s3csv convention, stylesheets/csv/columns.xsl).

  Columns: Organisation, Acronym, Type, Country, Phone, Website, Comments, UUID.
  Type becomes an org_organisation_type lookup linked through Eden's
  org_organisation_organisation_type component; Country is the ISO 3166-1 code Eden stores.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="name-headers" select="('Organisation', 'Organization', 'Name', 'Organisation Name')"/>
  <xsl:variable name="type-headers" select="('Type', 'Organisation Type', 'Organization Type')"/>

  <xsl:template match="/">
    <s3xml>
      <xsl:apply-templates select="table/row[exists(csv:cell(., $name-headers))]"/>
      <xsl:sequence select="csv:lookups(table/row, $type-headers, 'org_organisation_type', 'ORGTYPE')"/>
    </s3xml>
  </xsl:template>

  <xsl:template match="row">
    <resource name="org_organisation">
      <xsl:sequence select="csv:uuid(.)"/>
      <xsl:sequence select="csv:text('name', csv:cell(., $name-headers))"/>
      <xsl:sequence select="csv:text('acronym', csv:cell(., ('Acronym', 'Abbreviation')))"/>
      <xsl:sequence select="csv:text('country', csv:cell(., ('Country', 'Country Code')))"/>
      <xsl:sequence select="csv:text('phone', csv:cell(., ('Phone', 'Telephone')))"/>
      <xsl:sequence select="csv:text('website', csv:cell(., ('Website', 'Web', 'URL')))"/>
      <xsl:sequence select="csv:text('comments', csv:cell(., ('Comments', 'Notes')))"/>
      <xsl:for-each select="csv:cell(., $type-headers)">
        <resource name="org_organisation_organisation_type">
          <xsl:sequence select="csv:lookup-reference('organisation_type_id', 'org_organisation_type', 'ORGTYPE', .)"/>
        </resource>
      </xsl:for-each>
    </resource>
  </xsl:template>

</xsl:stylesheet>
