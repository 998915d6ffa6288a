<?xml version="1.0" encoding="UTF-8"?>
<!--
  CSV/XLSX columns → med_hospital (Eden s3csv convention, stylesheets/csv/columns.xsl).

  Columns: Name, Code, Type (Eden facility type label or code), Status (facility status, kept
  in the med_hospital_status component), Total Beds, Available Beds, Organisation, Phone,
  Emergency Phone, Email, Website, Country, L1, L2, L3, Address, Postcode, Lat, Lon, Comments, UUID.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="hospital-options.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="name-headers" select="('Name', 'Hospital', 'Facility Name')"/>
  <xsl:variable name="organisation-headers" select="('Organisation', 'Organization')"/>

  <xsl:template match="/">
    <xsl:variable name="rows" select="table/row[exists(csv:cell(., $name-headers))]"/>
    <s3xml>
      <xsl:apply-templates select="$rows"/>
      <xsl:sequence select="csv:lookups($rows, $organisation-headers, 'org_organisation', 'ORG')"/>
      <xsl:sequence select="$rows ! csv:location(., csv:cell(., $name-headers))"/>
    </s3xml>
  </xsl:template>

  <xsl:template match="row">
    <resource name="med_hospital">
      <xsl:sequence select="csv:uuid(.)"/>
      <xsl:sequence select="csv:text('name', csv:cell(., $name-headers))"/>
      <xsl:sequence select="csv:text('code', csv:cell(., 'Code'))"/>
      <xsl:sequence select="csv:option('facility_type', csv:cell(., ('Type', 'Facility Type')), $facility-types)"/>
      <xsl:sequence select="csv:number('total_beds', csv:cell(., ('Total Beds', 'Beds Total')))"/>
      <xsl:sequence select="csv:number('available_beds', csv:cell(., ('Available Beds', 'Beds Available')))"/>
      <xsl:sequence select="csv:text('phone_exchange', csv:cell(., ('Phone', 'Phone Exchange', 'Switchboard')))"/>
      <xsl:sequence select="csv:text('phone_emergency', csv:cell(., ('Emergency Phone', 'Phone Emergency')))"/>
      <xsl:sequence select="csv:text('email', csv:cell(., ('Email', 'E-mail')))"/>
      <xsl:sequence select="csv:text('website', csv:cell(., ('Website', 'URL')))"/>
      <xsl:sequence select="csv:text('comments', csv:cell(., ('Comments', 'Notes')))"/>
      <xsl:sequence select="csv:lookup-reference('organisation_id', 'org_organisation', 'ORG', csv:cell(., $organisation-headers))"/>
      <xsl:sequence select="csv:location-reference(.)"/>
      <xsl:variable name="status" select="csv:option('facility_status', csv:cell(., ('Status', 'Facility Status')), $facility-statuses)"/>
      <xsl:if test="exists($status)">
        <resource name="med_hospital_status">
          <xsl:sequence select="$status"/>
        </resource>
      </xsl:if>
    </resource>
  </xsl:template>

</xsl:stylesheet>
