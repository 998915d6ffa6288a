<?xml version="1.0" encoding="UTF-8"?>
<!--
  WKT (lon lat, as in Eden's gis_location.wkt) ↔ GeoJSON geometry. Both are lon-first, so the
  conversion only changes the notation: `POLYGON ((x y, …))` ↔ `{"type":"Polygon","coordinates":[[[x,y],…]]}`.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:array="http://www.w3.org/2005/xpath-functions/array"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:geo="urn:x-sluice:geometry"
    exclude-result-prefixes="#all">

  <xsl:variable name="geo:types" as="map(xs:string, xs:string)" select="map{
      'POINT': 'Point', 'LINESTRING': 'LineString', 'POLYGON': 'Polygon', 'MULTIPOINT': 'MultiPoint',
      'MULTILINESTRING': 'MultiLineString', 'MULTIPOLYGON': 'MultiPolygon'}"/>
  <!-- Eden's gis_feature_type codes. -->
  <xsl:variable name="geo:feature-types" as="map(xs:string, xs:string)" select="map{
      'Point': '1', 'LineString': '2', 'Polygon': '3', 'MultiPoint': '4', 'MultiLineString': '5', 'MultiPolygon': '6'}"/>

  <xsl:variable name="geo:number" select="'-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?'"/>

  <!-- A GeoJSON geometry object (JSON text) for a WKT string, or () when it does not parse. -->
  <xsl:function name="geo:wkt-to-geojson" as="xs:string?">
    <xsl:param name="wkt" as="xs:string?"/>
    <xsl:variable name="text" select="normalize-space($wkt)"/>
    <xsl:variable name="keyword" select="upper-case(replace($text, '^([A-Za-z]+).*$', '$1'))"/>
    <xsl:variable name="type" select="$geo:types($keyword)"/>
    <xsl:if test="exists($type)">
      <xsl:variable name="body" select="replace(substring($text, string-length($keyword) + 1), '^\s*(ZM|Z|M)?\s*\(', '(', 'i')"/>
      <!-- MULTIPOINT ((1 2), (3 4)) and MULTIPOINT (1 2, 3 4) are both legal WKT. -->
      <xsl:variable name="flat" select="if ($type = 'MultiPoint') then '(' || replace($body, '[()]', '') || ')' else $body"/>
      <xsl:variable name="pairs" select="replace($flat, '(' || $geo:number || ')\s+(' || $geo:number || ')(\s+' || $geo:number || ')*', '[$1,$2]')"/>
      <xsl:variable name="nested" select="replace(replace(replace($pairs, '\(', '['), '\)', ']'), '\s+', '')"/>
      <xsl:variable name="coordinates" select="if ($type = 'Point') then replace($nested, '^\[(.*)\]$', '$1') else $nested"/>
      <xsl:variable name="parsed" as="item()?">
        <xsl:try select="parse-json($coordinates)">
          <xsl:catch select="()"/>
        </xsl:try>
      </xsl:variable>
      <xsl:if test="exists($parsed)">
        <xsl:sequence select="'{&quot;type&quot;:&quot;' || $type || '&quot;,&quot;coordinates&quot;:' || geo:json-numbers($parsed) || '}'"/>
      </xsl:if>
    </xsl:if>
  </xsl:function>

  <!--
    Nested arrays of numbers as JSON, numbers without exponent. Arrays are walked by index: in
    SaxonJS `$array?*` costs time in the square of the array's length (a 1 MB polygon: 18 s → 1.4 s).
  -->
  <xsl:function name="geo:json-numbers" as="xs:string">
    <xsl:param name="value" as="item()"/>
    <xsl:sequence select="if ($value instance of array(*))
        then '[' || string-join(for $i in 1 to array:size($value) return geo:json-numbers($value($i)), ',') || ']'
        else s3:number-text($value)"/>
  </xsl:function>

  <!-- WKT for a parsed GeoJSON geometry map, or () for types gis_location cannot hold. -->
  <xsl:function name="geo:geojson-to-wkt" as="xs:string?">
    <xsl:param name="geometry" as="map(*)?"/>
    <xsl:variable name="type" select="string($geometry?type)"/>
    <xsl:variable name="coordinates" select="$geometry?coordinates"/>
    <xsl:variable name="keyword" select="map:keys($geo:types)[$geo:types(.) = $type]"/>
    <xsl:variable name="depth" select="map{'Point': 0, 'LineString': 1, 'MultiPoint': 1, 'Polygon': 2,
        'MultiLineString': 2, 'MultiPolygon': 3}($type)"/>
    <xsl:if test="exists($keyword) and geo:is-nesting($coordinates, $depth)">
      <xsl:sequence select="$keyword || ' ' || (if ($type = 'Point') then '(' || geo:position($coordinates) || ')'
          else geo:wkt-body($coordinates, map{'LineString': 1, 'MultiPoint': 1, 'Polygon': 2, 'MultiLineString': 2, 'MultiPolygon': 3}($type)))"/>
    </xsl:if>
  </xsl:function>

  <!-- Are these coordinates arrays nested $depth deep around [lon, lat] positions of numbers? -->
  <xsl:function name="geo:is-nesting" as="xs:boolean">
    <xsl:param name="coordinates" as="item()*"/>
    <xsl:param name="depth" as="xs:integer"/>
    <xsl:sequence select="if ($depth = 0)
        then $coordinates instance of array(*) and array:size($coordinates) ge 2
             and $coordinates(1) instance of xs:double and $coordinates(2) instance of xs:double
        else $coordinates instance of array(*) and array:size($coordinates) ge 1
             and (every $i in 1 to array:size($coordinates) satisfies geo:is-nesting($coordinates($i), $depth - 1))"/>
  </xsl:function>

  <xsl:function name="geo:wkt-body" as="xs:string">
    <xsl:param name="coordinates" as="array(*)"/>
    <xsl:param name="depth" as="xs:integer"/>
    <xsl:sequence select="'(' || string-join(for $i in 1 to array:size($coordinates)
        return if ($depth = 1) then geo:position($coordinates($i)) else geo:wkt-body($coordinates($i), $depth - 1), ', ') || ')'"/>
  </xsl:function>

  <xsl:function name="geo:position" as="xs:string">
    <xsl:param name="position" as="array(*)"/>
    <xsl:sequence select="s3:number-text($position(1)) || ' ' || s3:number-text($position(2))"/>
  </xsl:function>

  <!-- Every [lon, lat] of a parsed geometry, flattened: lons at odd, lats at even positions. -->
  <xsl:function name="geo:positions" as="xs:double*">
    <xsl:param name="coordinates" as="item()"/>
    <xsl:sequence select="if ($coordinates instance of array(*) and array:size($coordinates) ge 2
                               and $coordinates(1) instance of xs:double)
        then ($coordinates(1), $coordinates(2))
        else if ($coordinates instance of array(*)) then (for $i in 1 to array:size($coordinates) return geo:positions($coordinates($i))) else ()"/>
  </xsl:function>

</xsl:stylesheet>
