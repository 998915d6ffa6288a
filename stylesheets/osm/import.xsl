<?xml version="1.0" encoding="UTF-8"?>
<!--
  OpenStreetMap XML (API 0.6 / Overpass) → points of interest:
    amenity=hospital, healthcare=hospital                        → med_hospital
    amenity=shelter, emergency=shelter, social_facility=shelter  → cr_shelter
    office=*                                                     → org_office (operator → org_organisation)
  each with its gis_location: a node's position, or a way's outline (closed ways become
  polygons) with the centre of its bounding box as lat/lon.

  UUIDs are `urn:osm:node:<id>` / `urn:osm:way:<id>` (and `…:location`), so importing a newer
  extract updates the same records. Parameter kinds: space-separated subset of
  "hospital shelter office" (default all).
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:osm="urn:x-sluice:osm-import"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:param name="kinds" as="xs:string" select="'hospital shelter office'"/>

  <xsl:key name="osm:node" match="node" use="@id"/>

  <xsl:variable name="wanted" select="tokenize($kinds)"/>

  <xsl:template match="/">
    <xsl:variable name="pois" select="osm/(node | way)[osm:kind(.) = $wanted][not(@action = 'delete')]"/>
    <s3xml>
      <xsl:apply-templates select="$pois" mode="poi"/>
      <xsl:for-each select="distinct-values($pois[osm:kind(.) = 'office'] ! osm:tag(., 'operator'))">
        <resource name="org_organisation" tuid="OSMORG:{.}">
          <data field="name">
            <xsl:value-of select="."/>
          </data>
        </resource>
      </xsl:for-each>
      <xsl:apply-templates select="$pois" mode="location"/>
    </s3xml>
  </xsl:template>

  <!-- ===================================================================== records -->
  <xsl:template match="node | way" mode="poi">
    <xsl:variable name="kind" select="osm:kind(.)"/>
    <xsl:variable name="table" select="map{'hospital': 'med_hospital', 'shelter': 'cr_shelter', 'office': 'org_office'}($kind)"/>
    <xsl:variable name="phone" select="(osm:tag(., 'phone'), osm:tag(., 'contact:phone'))[1]"/>
    <resource name="{$table}" uuid="{osm:uid(.)}">
      <xsl:sequence select="s3:data-text('name', (osm:tag(., 'name'), osm:tag(., 'name:en'), osm:tag(., 'operator'), 'Unnamed ' || $kind)[1])"/>
      <xsl:choose>
        <xsl:when test="$kind = 'hospital'">
          <data field="facility_type" value="1">Hospital</data>
          <xsl:sequence select="s3:data-text('phone_exchange', $phone)"/>
          <xsl:sequence select="s3:data-text('phone_emergency', osm:tag(., 'emergency:phone'))"/>
          <xsl:sequence select="osm:integer('total_beds', osm:tag(., 'beds'))"/>
          <xsl:sequence select="s3:data-text('email', (osm:tag(., 'email'), osm:tag(., 'contact:email'))[1])"/>
          <xsl:sequence select="s3:data-text('website', (osm:tag(., 'website'), osm:tag(., 'contact:website'))[1])"/>
        </xsl:when>
        <xsl:when test="$kind = 'shelter'">
          <xsl:sequence select="s3:data-text('phone', $phone)"/>
          <xsl:sequence select="osm:integer('capacity_day', osm:tag(., 'capacity'))"/>
          <xsl:sequence select="s3:data-text('email', (osm:tag(., 'email'), osm:tag(., 'contact:email'))[1])"/>
          <xsl:sequence select="s3:data-text('website', (osm:tag(., 'website'), osm:tag(., 'contact:website'))[1])"/>
        </xsl:when>
        <xsl:otherwise>
          <xsl:sequence select="s3:data-text('phone1', $phone)"/>
          <xsl:sequence select="s3:data-text('email', (osm:tag(., 'email'), osm:tag(., 'contact:email'))[1])"/>
        </xsl:otherwise>
      </xsl:choose>
      <xsl:sequence select="s3:data-text('comments', osm:tag(., 'description'))"/>
      <xsl:if test="$kind = 'office'">
        <xsl:for-each select="osm:tag(., 'operator')">
          <reference field="organisation_id" resource="org_organisation" tuid="OSMORG:{.}"/>
        </xsl:for-each>
      </xsl:if>
      <xsl:if test="exists(osm:coordinates(.))">
        <reference field="location_id" resource="gis_location" uuid="{osm:uid(.)}:location"/>
      </xsl:if>
    </resource>
  </xsl:template>

  <!-- ===================================================================== locations -->
  <xsl:template match="node | way" mode="location">
    <xsl:variable name="coordinates" select="osm:coordinates(.)"/>
    <xsl:if test="exists($coordinates)">
      <xsl:variable name="lats" select="$coordinates[position() mod 2 = 1]"/>
      <xsl:variable name="lons" select="$coordinates[position() mod 2 = 0]"/>
      <xsl:variable name="refs" select="nd/@ref"/>
      <xsl:variable name="polygon" select="self::way and count($refs) ge 4 and $refs[1] = $refs[last()]"/>
      <xsl:variable name="street" select="normalize-space(string-join((osm:tag(., 'addr:housenumber'), osm:tag(., 'addr:street')), ' '))"/>
      <resource name="gis_location" uuid="{osm:uid(.)}:location">
        <xsl:sequence select="s3:data-text('name', (osm:tag(., 'name'), osm:tag(., 'name:en'))[1])"/>
        <xsl:choose>
          <xsl:when test="self::node">
            <data field="gis_feature_type" value="1">Point</data>
            <data field="wkt">
              <xsl:value-of select="'POINT (' || $lons[1] || ' ' || $lats[1] || ')'"/>
            </data>
          </xsl:when>
          <xsl:otherwise>
            <data field="gis_feature_type" value="{if ($polygon) then 3 else 2}">
              <xsl:value-of select="if ($polygon) then 'Polygon' else 'LineString'"/>
            </data>
            <xsl:variable name="points" select="for $i in 1 to count($lats) return $lons[$i] || ' ' || $lats[$i]"/>
            <data field="wkt">
              <xsl:value-of select="if ($polygon) then 'POLYGON ((' || string-join($points, ', ') || '))'
                                    else 'LINESTRING (' || string-join($points, ', ') || ')'"/>
            </data>
          </xsl:otherwise>
        </xsl:choose>
        <data field="lat" value="{(min($lats) + max($lats)) div 2}">
          <xsl:value-of select="(min($lats) + max($lats)) div 2"/>
        </data>
        <data field="lon" value="{(min($lons) + max($lons)) div 2}">
          <xsl:value-of select="(min($lons) + max($lons)) div 2"/>
        </data>
        <xsl:sequence select="s3:data-text('addr_street', $street)"/>
        <xsl:sequence select="s3:data-text('addr_postcode', osm:tag(., 'addr:postcode'))"/>
        <xsl:sequence select="s3:data-text('L3', osm:tag(., 'addr:city'))"/>
      </resource>
    </xsl:if>
  </xsl:template>

  <!-- ===================================================================== functions -->
  <xsl:function name="osm:kind" as="xs:string?">
    <xsl:param name="element" as="element()"/>
    <xsl:variable name="tags" select="map:merge($element/tag ! map{string(@k): string(@v)}, map{'duplicates': 'use-first'})"/>
    <xsl:sequence select="
        if ($tags?amenity = 'hospital' or $tags?healthcare = 'hospital') then 'hospital'
        else if ($tags?amenity = 'shelter' or $tags?emergency = 'shelter' or $tags?social_facility = 'shelter') then 'shelter'
        else if (normalize-space($tags?office) != '' and $tags?office != 'no') then 'office'
        else ()"/>
  </xsl:function>

  <xsl:function name="osm:tag" as="xs:string?">
    <xsl:param name="element" as="element()"/>
    <xsl:param name="key" as="xs:string"/>
    <xsl:sequence select="$element/tag[@k = $key][1]/normalize-space(@v)[. != '']"/>
  </xsl:function>

  <xsl:function name="osm:uid" as="xs:string">
    <xsl:param name="element" as="element()"/>
    <xsl:sequence select="'urn:osm:' || local-name($element) || ':' || $element/@id"/>
  </xsl:function>

  <!-- lat, lon, lat, lon, … as decimals: the node itself, or a way's nodes found in the extract. -->
  <xsl:function name="osm:coordinates" as="xs:decimal*">
    <xsl:param name="element" as="element()"/>
    <xsl:variable name="nodes" select="if ($element/self::node) then $element
        else for $ref in $element/nd/@ref return key('osm:node', $ref, root($element))[1]"/>
    <xsl:sequence select="$nodes[@lat castable as xs:decimal and @lon castable as xs:decimal]
        ! (xs:decimal(@lat), xs:decimal(@lon))"/>
  </xsl:function>

  <xsl:function name="osm:integer" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:if test="$value castable as xs:integer">
      <data field="{$field}" value="{xs:integer($value)}">
        <xsl:value-of select="xs:integer($value)"/>
      </data>
    </xsl:if>
  </xsl:function>

</xsl:stylesheet>
