<?xml version="1.0" encoding="UTF-8"?>
<!--
  GeoJSON → gis_location records. The JSON arrives either wrapped by the `json-wrap` step as
  <json>{…}</json>, or (the transform engine's jsonInput mode) as the $json parameter with the
  run starting at xsl:initial-template. Accepts a FeatureCollection, a Feature or a bare geometry.

  Each feature with a Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon
  geometry becomes one gis_location: WKT (lon lat), gis_feature_type, lat/lon (the point, or the
  centre of the bounding box) and lat/lon_min/max. The name comes from properties.name (or
  title); a string feature id becomes the uuid. Other geometries are reported and skipped.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:array="http://www.w3.org/2005/xpath-functions/array"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:geo="urn:x-sluice:geometry"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>
  <xsl:include href="geometry.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:param name="json" as="xs:string?" select="()"/>

  <xsl:template name="xsl:initial-template">
    <xsl:call-template name="features">
      <xsl:with-param name="text" select="string($json)"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="/">
    <xsl:call-template name="features">
      <xsl:with-param name="text" select="string(/*)"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="features">
    <xsl:param name="text" as="xs:string"/>
    <xsl:variable name="json" select="parse-json($text)"/>
    <xsl:variable name="features" as="map(*)*" select="
        if (not($json instance of map(*))) then ()
        else if ($json?type = 'FeatureCollection') then $json?features[. instance of array(*)]?*[. instance of map(*)]
        else if ($json?type = 'Feature') then $json
        else map{'type': 'Feature', 'geometry': $json, 'properties': map{}}"/>
    <s3xml>
      <xsl:for-each select="$features">
        <xsl:call-template name="location">
          <xsl:with-param name="feature" select="."/>
        </xsl:call-template>
      </xsl:for-each>
    </s3xml>
  </xsl:template>

  <xsl:template name="location">
    <xsl:param name="feature" as="map(*)"/>
    <xsl:variable name="geometry" select="$feature?geometry[. instance of map(*)]"/>
    <xsl:variable name="wkt" select="geo:geojson-to-wkt($geometry)"/>
    <xsl:variable name="properties" select="$feature?properties[. instance of map(*)]"/>
    <xsl:choose>
      <xsl:when test="empty($wkt)">
        <xsl:message select="'sluice:warning geojson feature ' || string(($feature?id[. instance of xs:anyAtomicType], '(no id)')[1])
            || ' skipped: geometry ' || string(($geometry?type[. instance of xs:anyAtomicType], 'missing')[1]) || ' cannot be stored'"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="positions" select="geo:positions($geometry?coordinates)"/>
        <xsl:variable name="lons" select="$positions[position() mod 2 = 1] ! xs:decimal(.)"/>
        <xsl:variable name="lats" select="$positions[position() mod 2 = 0] ! xs:decimal(.)"/>
        <resource name="gis_location">
          <xsl:if test="$feature?id instance of xs:string and normalize-space($feature?id) != ''">
            <xsl:attribute name="uuid" select="$feature?id"/>
          </xsl:if>
          <xsl:sequence select="s3:data-text('name', ($properties?name, $properties?title)[. instance of xs:string][1])"/>
          <data field="gis_feature_type" value="{$geo:feature-types($geometry?type)}">
            <xsl:value-of select="$geometry?type"/>
          </data>
          <data field="wkt">
            <xsl:value-of select="$wkt"/>
          </data>
          <xsl:sequence select="geo:decimal('lat', (min($lats) + max($lats)) div 2)"/>
          <xsl:sequence select="geo:decimal('lon', (min($lons) + max($lons)) div 2)"/>
          <xsl:if test="$geometry?type != 'Point'">
            <xsl:sequence select="geo:decimal('lat_min', min($lats))"/>
            <xsl:sequence select="geo:decimal('lat_max', max($lats))"/>
            <xsl:sequence select="geo:decimal('lon_min', min($lons))"/>
            <xsl:sequence select="geo:decimal('lon_max', max($lons))"/>
          </xsl:if>
          <xsl:sequence select="s3:data-text('comments', $properties?comments[. instance of xs:string])"/>
        </resource>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:function name="geo:decimal" as="element()">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="number" as="xs:decimal"/>
    <data field="{$field}" value="{$number}">
      <xsl:value-of select="$number"/>
    </data>
  </xsl:function>

</xsl:stylesheet>
