<?xml version="1.0" encoding="UTF-8"?>
<!--
  S3XML → GeoJSON FeatureCollection (RFC 7946, lon-lat), for any resource with a location.

  A record's geometry is its own WKT (gis_location), else the WKT or lat/lon of the gis_location
  its location_id points at, else the lat/lon attributes Eden puts on that reference. Records
  without any of these are left out. gis_location records that other records point at are
  dereferenced locations, not features of their own.

  Feature id is the record uuid; properties are the record's machine values (numbers stay
  numbers, lists stay arrays) plus "resource". Parameter: resource (export only that table).
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:array="http://www.w3.org/2005/xpath-functions/array"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:geo="urn:x-sluice:geometry"
    xmlns:gj="urn:x-sluice:geojson-export"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>
  <xsl:include href="geometry.xsl"/>

  <xsl:output method="text" encoding="UTF-8"/>

  <xsl:param name="resource" as="xs:string" select="''"/>

  <xsl:key name="gj:location-references" match="reference[@resource = 'gis_location']" use="@uuid, @tuid"/>

  <xsl:template match="/">
    <xsl:variable name="records" select="s3xml/resource[not(s3:is-deleted(.))]
        [if ($resource != '') then @name = $resource
         else not(@name = 'gis_location' and exists((@uuid, @tuid) ! key('gj:location-references', ., root(.))))]"/>
    <xsl:variable name="features" select="for $record in $records return gj:feature($record)"/>
    <xsl:value-of select="'{&quot;type&quot;:&quot;FeatureCollection&quot;,&quot;features&quot;:['
        || string-join($features, ',') || ']}'"/>
  </xsl:template>

  <xsl:function name="gj:feature" as="xs:string?">
    <xsl:param name="record" as="element()"/>
    <xsl:variable name="geometry" select="gj:geometry($record)"/>
    <xsl:if test="exists($geometry)">
      <xsl:variable name="properties" select="(
          '&quot;resource&quot;:' || s3:json-string($record/@name),
          for $data in $record/data[@field != ''] return s3:json-string($data/@field) || ':' || gj:json-value($data))"/>
      <xsl:sequence select="'{&quot;type&quot;:&quot;Feature&quot;,'
          || (if ($record/@uuid) then '&quot;id&quot;:' || s3:json-string($record/@uuid) || ',' else '')
          || '&quot;geometry&quot;:' || $geometry
          || ',&quot;properties&quot;:{' || string-join($properties, ',') || '}}'"/>
    </xsl:if>
  </xsl:function>

  <xsl:function name="gj:geometry" as="xs:string?">
    <xsl:param name="record" as="element()"/>
    <xsl:variable name="reference" select="$record/reference[@field = 'location_id'][1]"/>
    <xsl:variable name="location" select="if ($record/@name = 'gis_location') then $record else s3:referenced($reference)"/>
    <xsl:variable name="lat" select="(s3:value($location, 'lat'), string($reference/@lat))[. castable as xs:decimal][1]"/>
    <xsl:variable name="lon" select="(s3:value($location, 'lon'), string($reference/@lon))[. castable as xs:decimal][1]"/>
    <xsl:sequence select="(geo:wkt-to-geojson(s3:value($location, 'wkt')),
        if (exists($lat) and exists($lon))
        then '{&quot;type&quot;:&quot;Point&quot;,&quot;coordinates&quot;:[' || xs:decimal($lon) || ',' || xs:decimal($lat) || ']}'
        else ())[1]"/>
  </xsl:function>

  <!-- The machine value as JSON: decoded @value (numbers, booleans, lists kept), else the text. -->
  <xsl:function name="gj:json-value" as="xs:string">
    <xsl:param name="data" as="element()"/>
    <xsl:variable name="json" select="s3:json($data)"/>
    <xsl:sequence select="if ($data/@value and exists($json)) then gj:json($json)
        else if ($data/@value) then s3:json-string($data/@value)
        else s3:json-string(string($data))"/>
  </xsl:function>

  <xsl:function name="gj:json" as="xs:string">
    <xsl:param name="value" as="item()"/>
    <xsl:choose>
      <xsl:when test="$value instance of array(*)">
        <xsl:sequence select="'[' || string-join(for $i in 1 to array:size($value) return gj:json($value($i)), ',') || ']'"/>
      </xsl:when>
      <xsl:when test="$value instance of map(*)">
        <xsl:sequence select="'{' || string-join(for $key in sort(map:keys($value))
            return s3:json-string($key) || ':' || (if (empty($value($key))) then 'null' else gj:json($value($key))), ',') || '}'"/>
      </xsl:when>
      <xsl:when test="$value instance of xs:boolean">
        <xsl:sequence select="string($value)"/>
      </xsl:when>
      <xsl:when test="$value instance of xs:double">
        <xsl:sequence select="s3:number-text($value)"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:sequence select="s3:json-string(string($value))"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

</xsl:stylesheet>
