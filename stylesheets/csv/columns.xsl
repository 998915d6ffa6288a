<?xml version="1.0" encoding="UTF-8"?>
<!--
  Shared pieces of the column stylesheets (stylesheets/csv/<prefix>/<name>.xsl and
  <name>.export.xsl), which read and write Eden's spreadsheet form:
    <table name="…"><row><col field="Header" hashtag="#…">value</col>…</row></table>

  Import: a column is found by any of its accepted headers, case-insensitively, or by its HXL
  hashtag; cells are trimmed; lookups (types, organisations) become tuid-linked records named as
  in the sheet, as Eden's s3csv stylesheets do, so the importer can match them by name.
  Export: every canonical column is written on every row (empty when there is no value), so the
  sheet keeps one header whatever the records hold.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>

  <!-- Location columns shared by every located resource, in export order. -->
  <xsl:variable name="csv:location-headers" as="map(xs:string, xs:string*)" select="map{
      'Country': ('Country', 'L0'),
      'L1': ('L1', 'State', 'Province', 'Region'),
      'L2': ('L2', 'District', 'County'),
      'L3': ('L3', 'City', 'Town', 'Municipality'),
      'Address': ('Address', 'Street', 'Street Address'),
      'Postcode': ('Postcode', 'Postal Code', 'Zip', 'Zip Code'),
      'Lat': ('Lat', 'Latitude'),
      'Lon': ('Lon', 'Long', 'Longitude', 'Lng')
    }"/>
  <xsl:variable name="csv:location-order" select="('Country', 'L1', 'L2', 'L3', 'Address', 'Postcode', 'Lat', 'Lon')"/>
  <xsl:variable name="csv:location-fields" as="map(xs:string, xs:string)" select="map{
      'Country': 'L0', 'L1': 'L1', 'L2': 'L2', 'L3': 'L3',
      'Address': 'addr_street', 'Postcode': 'addr_postcode', 'Lat': 'lat', 'Lon': 'lon'
    }"/>

  <!-- ===================================================================== reading rows -->

  <!-- The trimmed value of the first non-empty column with one of these headers or hashtags. -->
  <xsl:function name="csv:cell" as="xs:string?">
    <xsl:param name="row" as="element()"/>
    <xsl:param name="headers" as="xs:string*"/>
    <xsl:variable name="wanted" select="$headers ! lower-case(normalize-space(.))"/>
    <xsl:sequence select="($row/col[lower-case(normalize-space(@field)) = $wanted
                                    or (@hashtag and lower-case(normalize-space(@hashtag)) = $wanted)]
                           ! replace(string(.), '^\s+|\s+$', ''))[. != ''][1]"/>
  </xsl:function>

  <xsl:function name="csv:text" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:sequence select="s3:data-text($field, $value)"/>
  </xsl:function>

  <!-- A number (lat, lon, counts) as a data value; anything else is reported and left out. -->
  <xsl:function name="csv:number" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:variable name="clean" select="normalize-space($value)"/>
    <xsl:choose>
      <xsl:when test="empty($value)"/>
      <xsl:when test="$clean castable as xs:decimal">
        <data field="{$field}" value="{xs:decimal($clean)}">
          <xsl:value-of select="xs:decimal($clean)"/>
        </data>
      </xsl:when>
      <xsl:otherwise>
        <xsl:message select="'sluice:warning csv ' || $field || ' is not a number: ' || s3:json-string($value)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <!-- A date or date-time cell as an S3 timestamp (UTC, no zone). -->
  <xsl:function name="csv:datetime" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:variable name="timestamp" select="s3:eden-timestamp($value)"/>
    <xsl:choose>
      <xsl:when test="empty($value)"/>
      <xsl:when test="exists($timestamp)">
        <data field="{$field}" value="{$timestamp}">
          <xsl:value-of select="$value"/>
        </data>
      </xsl:when>
      <xsl:otherwise>
        <xsl:message select="'sluice:warning csv ' || $field || ' is not a date: ' || s3:json-string($value)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <!-- An option field: the code for a label (or the code itself) from $options (code → label). -->
  <xsl:function name="csv:option" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:param name="options" as="map(xs:string, xs:string)"/>
    <xsl:variable name="wanted" select="lower-case(normalize-space($value))"/>
    <xsl:variable name="code" select="(map:keys($options)[. = normalize-space($value) or lower-case($options(.)) = $wanted])[1]"/>
    <xsl:choose>
      <xsl:when test="empty($value)"/>
      <xsl:when test="exists($code)">
        <data field="{$field}" value="{$code}">
          <xsl:value-of select="$options($code)"/>
        </data>
      </xsl:when>
      <xsl:otherwise>
        <xsl:message select="'sluice:unmapped csv ' || $field || ' ' || s3:json-string($value) || ' left out'"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <xsl:function name="csv:tuid" as="xs:string">
    <xsl:param name="kind" as="xs:string"/>
    <xsl:param name="name" as="xs:string"/>
    <xsl:sequence select="$kind || ':' || $name"/>
  </xsl:function>

  <!-- A reference to a lookup record named in the sheet (created once by csv:lookups). -->
  <xsl:function name="csv:lookup-reference" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="resource" as="xs:string"/>
    <xsl:param name="kind" as="xs:string"/>
    <xsl:param name="name" as="xs:string?"/>
    <xsl:if test="exists($name)">
      <reference field="{$field}" resource="{$resource}" tuid="{csv:tuid($kind, $name)}"/>
    </xsl:if>
  </xsl:function>

  <!-- One record per distinct lookup name used in the sheet. -->
  <xsl:function name="csv:lookups" as="element()*">
    <xsl:param name="rows" as="element()*"/>
    <xsl:param name="headers" as="xs:string*"/>
    <xsl:param name="resource" as="xs:string"/>
    <xsl:param name="kind" as="xs:string"/>
    <xsl:for-each select="distinct-values($rows ! csv:cell(., $headers))">
      <resource name="{$resource}" tuid="{csv:tuid($kind, .)}">
        <data field="name">
          <xsl:value-of select="."/>
        </data>
      </resource>
    </xsl:for-each>
  </xsl:function>

  <!-- The row's location as a gis_location record (tuid from the row), or () without location cells. -->
  <xsl:function name="csv:location" as="element()?">
    <xsl:param name="row" as="element()"/>
    <xsl:param name="name" as="xs:string?"/>
    <xsl:variable name="cells" select="map:merge(for $key in $csv:location-order
        return map:entry($key, csv:cell($row, $csv:location-headers($key))))"/>
    <xsl:if test="exists(map:keys($cells)[exists($cells(.))])">
      <resource name="gis_location" tuid="{csv:location-tuid($row)}">
        <xsl:sequence select="csv:text('name', ($name, $cells?Address, $cells?L3, $cells?Country)[1])"/>
        <xsl:if test="exists($cells?Lat) and exists($cells?Lon)">
          <data field="gis_feature_type" value="1">Point</data>
        </xsl:if>
        <xsl:for-each select="$csv:location-order">
          <xsl:variable name="field" select="$csv:location-fields(.)"/>
          <xsl:sequence select="if (. = ('Lat', 'Lon')) then csv:number($field, $cells(.)) else csv:text($field, $cells(.))"/>
        </xsl:for-each>
      </resource>
    </xsl:if>
  </xsl:function>

  <xsl:function name="csv:location-reference" as="element()?">
    <xsl:param name="row" as="element()"/>
    <xsl:if test="some $key in $csv:location-order satisfies exists(csv:cell($row, $csv:location-headers($key)))">
      <reference field="location_id" resource="gis_location" tuid="{csv:location-tuid($row)}"/>
    </xsl:if>
  </xsl:function>

  <xsl:function name="csv:location-tuid" as="xs:string">
    <xsl:param name="row" as="element()"/>
    <xsl:sequence select="'LOCATION:' || (csv:cell($row, 'UUID'), generate-id($row))[1]"/>
  </xsl:function>

  <xsl:function name="csv:uuid" as="attribute()?">
    <xsl:param name="row" as="element()"/>
    <xsl:for-each select="csv:cell($row, ('UUID', 'uuid'))">
      <xsl:attribute name="uuid" select="."/>
    </xsl:for-each>
  </xsl:function>

  <!-- ===================================================================== writing rows -->

  <xsl:function name="csv:col" as="element()">
    <xsl:param name="header" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <col field="{$header}">
      <xsl:value-of select="$value"/>
    </col>
  </xsl:function>

  <!-- The name of the record a reference points at, else the reference's own label. -->
  <xsl:function name="csv:referenced-name" as="xs:string?">
    <xsl:param name="resource" as="element()?"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:variable name="reference" select="$resource/reference[@field = $field][1]"/>
    <xsl:sequence select="(s3:value(s3:referenced($reference), 'name'), normalize-space($reference)[. != ''])[1]"/>
  </xsl:function>

  <!-- The label of an option code from $options (code → label), else the raw value. -->
  <xsl:function name="csv:option-label" as="xs:string?">
    <xsl:param name="resource" as="element()?"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="options" as="map(xs:string, xs:string)"/>
    <xsl:variable name="code" select="s3:value($resource, $field)"/>
    <xsl:sequence select="if (exists($code)) then ($options($code), $code)[1] else ()"/>
  </xsl:function>

  <xsl:function name="csv:location-cols" as="element()*">
    <xsl:param name="resource" as="element()"/>
    <xsl:variable name="reference" select="$resource/reference[@field = 'location_id'][1]"/>
    <xsl:variable name="location" select="s3:referenced($reference)"/>
    <xsl:variable name="fallback" as="map(xs:string, xs:string?)" select="map{
        'Address': string($reference/@address)[. != ''], 'Postcode': string($reference/@postcode)[. != ''],
        'Lat': string($reference/@lat)[. != ''], 'Lon': string($reference/@lon)[. != '']
      }"/>
    <xsl:for-each select="$csv:location-order">
      <xsl:sequence select="csv:col(., (s3:value($location, $csv:location-fields(.)), $fallback(.))[1])"/>
    </xsl:for-each>
  </xsl:function>

</xsl:stylesheet>
