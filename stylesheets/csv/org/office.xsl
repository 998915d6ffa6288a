<?xml version="1.0" encoding="UTF-8"?>
<!--
  CSV/XLSX columns → org_office (Eden s3csv convention, stylesheets/csv/columns.xsl).

  Columns: Name, Code, Organisation, Type, Phone, Phone 2, Email, Fax, Country, L1, L2, L3,
  Address, Postcode, Lat, Lon, Comments, UUID. The organisation and the office type become
  tuid-linked records named as in the sheet; the location becomes a gis_location per row.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="name-headers" select="('Name', 'Office', 'Office Name')"/>
  <xsl:variable name="organisation-headers" select="('Organisation', 'Organization')"/>
  <xsl:variable name="type-headers" select="('Type', 'Office Type')"/>

  <xsl:template match="/">
    <xsl:variable name="rows" select="table/row[exists(csv:cell(., $name-headers))]"/>
    <s3xml>
      <xsl:apply-templates select="$rows"/>
      <xsl:sequence select="csv:lookups($rows, $organisation-headers, 'org_organisation', 'ORG')"/>
      <xsl:sequence select="csv:lookups($rows, $type-headers, 'org_office_type', 'OFFICETYPE')"/>
      <xsl:sequence select="$rows ! csv:location(., csv:cell(., $name-headers))"/>
    </s3xml>
  </xsl:template>

  <xsl:template match="row">
    <resource name="org_office">
      <xsl:sequence select="csv:uuid(.)"/>
      <xsl:sequence select="csv:text('name', csv:cell(., $name-headers))"/>
      <xsl:sequence select="csv:text('code', csv:cell(., ('Code', 'Office Code')))"/>
      <xsl:sequence select="csv:text('phone1', csv:cell(., ('Phone', 'Phone 1', 'Phone1')))"/>
      <xsl:sequence select="csv:text('phone2', csv:cell(., ('Phone 2', 'Phone2')))"/>
      <xsl:sequence select="csv:text('email', csv:cell(., ('Email', 'E-mail')))"/>
      <xsl:sequence select="csv:text('fax', csv:cell(., 'Fax'))"/>
      <xsl:sequence select="csv:text('comments', csv:cell(., ('Comments', 'Notes')))"/>
      <xsl:sequence select="csv:lookup-reference('organisation_id', 'org_organisation', 'ORG', csv:cell(., $organisation-headers))"/>
      <xsl:sequence select="csv:lookup-reference('office_type_id', 'org_office_type', 'OFFICETYPE', csv:cell(., $type-headers))"/>
      <xsl:sequence select="csv:location-reference(.)"/>
    </resource>
  </xsl:template>

</xsl:stylesheet>
