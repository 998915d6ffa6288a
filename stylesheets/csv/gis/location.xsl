<?xml version="1.0" encoding="UTF-8"?>
<!--
  CSV/XLSX columns → gis_location (Eden s3csv convention, stylesheets/csv/columns.xsl).

  Columns: Name, Level (L0…L5, empty for a specific place), Code, Country, L1, L2, L3, Address,
  Postcode, Lat, Lon, WKT (lon lat order), Comments, UUID. The Lx columns fill the
  denormalised L0…L3 name fields; building the parent hierarchy is left to the importer.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="feature-types" as="map(xs:string, xs:string)" select="map{
      'POINT': '1', 'LINESTRING': '2', 'POLYGON': '3', 'MULTIPOINT': '4',
      'MULTILINESTRING': '5', 'MULTIPOLYGON': '6', 'GEOMETRYCOLLECTION': '7'}"/>
  <xsl:variable name="feature-labels" as="map(xs:string, xs:string)" select="map{
      '1': 'Point', '2': 'LineString', '3': 'Polygon', '4': 'MultiPoint',
      '5': 'MultiLineString', '6': 'MultiPolygon', '7': 'GeometryCollection'}"/>

  <xsl:template match="/">
    <s3xml>
      <xsl:apply-templates select="table/row[exists(csv:cell(., 'Name'))]"/>
    </s3xml>
  </xsl:template>

  <xsl:template match="row">
    <xsl:variable name="wkt" select="csv:cell(., ('WKT', 'Geometry'))"/>
    <xsl:variable name="geometry" select="upper-case(replace(string($wkt), '^\s*([A-Za-z]+).*$', '$1', 's'))"/>
    <xsl:variable name="feature-type" select="if (exists($wkt)) then $feature-types($geometry)
        else if (exists(csv:cell(., ('Lat', 'Latitude'))) and exists(csv:cell(., ('Lon', 'Longitude')))) then '1' else ()"/>
    <resource name="gis_location">
      <xsl:sequence select="csv:uuid(.)"/>
      <xsl:sequence select="csv:text('name', csv:cell(., 'Name'))"/>
      <xsl:variable name="level" select="upper-case(string(csv:cell(., 'Level')))"/>
      <xsl:choose>
        <xsl:when test="matches($level, '^L[0-5]$')">
          <data field="level" value="&quot;{$level}&quot;">
            <xsl:value-of select="$level"/>
          </data>
        </xsl:when>
        <xsl:when test="$level != ''">
          <xsl:message select="'sluice:unmapped csv level &quot;' || $level || '&quot; left out'"/>
        </xsl:when>
      </xsl:choose>
      <xsl:sequence select="csv:text('code', csv:cell(., 'Code'))"/>
      <xsl:variable name="row" select="."/>
      <xsl:for-each select="$csv:location-order">
        <xsl:variable name="value" select="csv:cell($row, $csv:location-headers(.))"/>
        <xsl:sequence select="if (. = ('Lat', 'Lon')) then csv:number($csv:location-fields(.), $value)
                              else csv:text($csv:location-fields(.), $value)"/>
      </xsl:for-each>
      <xsl:for-each select="$feature-type">
        <data field="gis_feature_type" value="{.}">
          <xsl:value-of select="$feature-labels(.)"/>
        </data>
      </xsl:for-each>
      <xsl:sequence select="csv:text('wkt', $wkt)"/>
      <xsl:sequence select="csv:text('comments', csv:cell(., ('Comments', 'Notes')))"/>
    </resource>
  </xsl:template>

</xsl:stylesheet>
