<?xml version="1.0" encoding="UTF-8"?>
<!--
  CSV/XLSX columns → event_incident_report (Eden s3csv convention, stylesheets/csv/columns.xsl).

  Columns: Short Description (the report's name), Date, Type (event_incident_type lookup),
  Reported By, Contact, Description, Country, L1, L2, L3, Address, Postcode, Lat, Lon,
  Comments, UUID. Dates without a zone are UTC.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="name-headers" select="('Short Description', 'Name', 'Title')"/>
  <xsl:variable name="type-headers" select="('Type', 'Incident Type')"/>

  <xsl:template match="/">
    <xsl:variable name="rows" select="table/row[exists(csv:cell(., $name-headers))]"/>
    <s3xml>
      <xsl:apply-templates select="$rows"/>
      <xsl:sequence select="csv:lookups($rows, $type-headers, 'event_incident_type', 'INCIDENTTYPE')"/>
      <xsl:sequence select="$rows ! csv:location(., ())"/>
    </s3xml>
  </xsl:template>

  <xsl:template match="row">
    <resource name="event_incident_report">
      <xsl:sequence select="csv:uuid(.)"/>
      <xsl:sequence select="csv:text('name', csv:cell(., $name-headers))"/>
      <xsl:sequence select="csv:datetime('date', csv:cell(., ('Date', 'Date/Time', 'Reported On')))"/>
      <xsl:sequence select="csv:text('reported_by', csv:cell(., ('Reported By', 'Reporter')))"/>
      <xsl:sequence select="csv:text('contact', csv:cell(., 'Contact'))"/>
      <xsl:sequence select="csv:text('description', csv:cell(., ('Description', 'Details')))"/>
      <xsl:sequence select="csv:text('comments', csv:cell(., ('Comments', 'Notes')))"/>
      <xsl:sequence select="csv:lookup-reference('incident_type_id', 'event_incident_type', 'INCIDENTTYPE', csv:cell(., $type-headers))"/>
      <xsl:sequence select="csv:location-reference(.)"/>
    </resource>
  </xsl:template>

</xsl:stylesheet>
