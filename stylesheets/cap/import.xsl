<?xml version="1.0" encoding="UTF-8"?>
<!--
  CAP 1.2 → S3XML (cap_alert and its components, gis_location for polygons and circles).

  Input: a CAP 1.2 <alert> (prefixed or not), or any document holding alerts, such as an EDXL-DE
  envelope; every cap:alert found is imported.

  Output follows Eden's data model (modules/s3db/cap.py): cap_info, cap_info_parameter,
  cap_resource, cap_area, cap_area_location and cap_area_tag are components of cap_alert that
  point at their cap_info / cap_area through info_id / area_id. Polygons and circles become
  gis_location records (WKT in lon lat order, radius in metres) after the alerts.

  UUIDs are derived from sender + identifier (`urn:x-cap:<sender>:<identifier>:info:1:area:2…`), so
  importing the same alert twice updates it instead of duplicating its components.

  Times become S3XML timestamps (UTC, no zone) in @value; the element text keeps the CAP original.
  `references` is kept verbatim in cap_alert.reference (Eden's text field), so Update/Cancel chains
  survive the trip.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:capi="urn:x-sluice:cap-import"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:template match="/">
    <s3xml>
      <xsl:apply-templates select="//cap:alert" mode="cap-import"/>
      <xsl:apply-templates select="//cap:alert" mode="cap-import-locations"/>
    </s3xml>
  </xsl:template>

  <!-- ===================================================================== alert -->
  <xsl:template match="cap:alert" mode="cap-import">
    <xsl:variable name="uuid" select="capi:alert-uuid(.)"/>
    <resource name="cap_alert" uuid="{$uuid}">
      <xsl:sequence select="s3:data-text('identifier', string(cap:identifier))"/>
      <xsl:sequence select="s3:data-text('sender', string(cap:sender))"/>
      <xsl:sequence select="capi:datetime('sent', cap:sent)"/>
      <xsl:sequence select="capi:option('status', cap:status)"/>
      <xsl:sequence select="capi:option('msg_type', cap:msgType)"/>
      <xsl:sequence select="s3:data-text('source', string(cap:source))"/>
      <xsl:sequence select="capi:option('scope', cap:scope)"/>
      <xsl:sequence select="s3:data-text('restriction', string(cap:restriction))"/>
      <xsl:sequence select="capi:list('addresses', s3:split-quoted(cap:addresses), string(cap:addresses))"/>
      <xsl:sequence select="capi:list('codes', cap:code[normalize-space() != ''] ! normalize-space(), ())"/>
      <xsl:sequence select="s3:data-text('note', string(cap:note))"/>
      <xsl:sequence select="s3:data-text('reference', normalize-space(cap:references))"/>
      <xsl:sequence select="capi:list('incidents', s3:split-quoted(cap:incidents), string(cap:incidents))"/>

      <xsl:for-each select="cap:info">
        <xsl:variable name="info-uuid" select="$uuid || ':info:' || position()"/>
        <xsl:apply-templates select="." mode="cap-import">
          <xsl:with-param name="uuid" select="$info-uuid"/>
        </xsl:apply-templates>
        <xsl:for-each select="cap:parameter">
          <resource name="cap_info_parameter" uuid="{$info-uuid}:parameter:{position()}">
            <xsl:sequence select="s3:data-text('name', string(cap:valueName))"/>
            <xsl:sequence select="s3:data-text('value', string(cap:value))"/>
            <reference field="info_id" resource="cap_info" uuid="{$info-uuid}"/>
          </resource>
        </xsl:for-each>
        <xsl:for-each select="cap:resource">
          <resource name="cap_resource" uuid="{$info-uuid}:resource:{position()}">
            <xsl:sequence select="s3:data-text('resource_desc', string(cap:resourceDesc))"/>
            <xsl:sequence select="s3:data-text('mime_type', string(cap:mimeType))"/>
            <xsl:if test="normalize-space(cap:size) castable as xs:integer">
              <data field="size" value="{xs:integer(normalize-space(cap:size))}">
                <xsl:value-of select="normalize-space(cap:size)"/>
              </data>
            </xsl:if>
            <xsl:sequence select="s3:data-text('uri', normalize-space(cap:uri))"/>
            <xsl:sequence select="s3:data-text('deref_uri', string(cap:derefUri))"/>
            <xsl:sequence select="s3:data-text('digest', normalize-space(cap:digest))"/>
            <reference field="info_id" resource="cap_info" uuid="{$info-uuid}"/>
          </resource>
        </xsl:for-each>
        <xsl:for-each select="cap:area">
          <xsl:variable name="area-uuid" select="$info-uuid || ':area:' || position()"/>
          <resource name="cap_area" uuid="{$area-uuid}">
            <xsl:sequence select="s3:data-text('name', string(cap:areaDesc))"/>
            <xsl:sequence select="capi:decimal('altitude', cap:altitude)"/>
            <xsl:sequence select="capi:decimal('ceiling', cap:ceiling)"/>
            <reference field="info_id" resource="cap_info" uuid="{$info-uuid}"/>
          </resource>
          <xsl:for-each select="capi:shapes(.)">
            <resource name="cap_area_location" uuid="{capi:shape-uuid(., $area-uuid)}:link">
              <reference field="area_id" resource="cap_area" uuid="{$area-uuid}"/>
              <reference field="location_id" resource="gis_location" uuid="{capi:shape-uuid(., $area-uuid)}"/>
            </resource>
          </xsl:for-each>
          <xsl:for-each select="cap:geocode">
            <resource name="cap_area_tag" uuid="{$area-uuid}:geocode:{position()}">
              <xsl:sequence select="s3:data-text('tag', normalize-space(cap:valueName))"/>
              <xsl:sequence select="s3:data-text('value', normalize-space(cap:value))"/>
              <reference field="area_id" resource="cap_area" uuid="{$area-uuid}"/>
            </resource>
          </xsl:for-each>
        </xsl:for-each>
      </xsl:for-each>
    </resource>
  </xsl:template>

  <!-- ===================================================================== info -->
  <xsl:template match="cap:info" mode="cap-import">
    <xsl:param name="uuid" as="xs:string" required="yes"/>
    <resource name="cap_info" uuid="{$uuid}">
      <xsl:sequence select="s3:data-text('language', normalize-space(cap:language))"/>
      <xsl:sequence select="capi:list('category', cap:category ! normalize-space(), ())"/>
      <xsl:sequence select="s3:data-text('event', string(cap:event))"/>
      <xsl:sequence select="capi:list('response_type', cap:responseType ! normalize-space(), ())"/>
      <xsl:sequence select="capi:option('urgency', cap:urgency)"/>
      <xsl:sequence select="capi:option('severity', cap:severity)"/>
      <xsl:sequence select="capi:option('certainty', cap:certainty)"/>
      <xsl:sequence select="s3:data-text('audience', string(cap:audience))"/>
      <xsl:if test="cap:eventCode">
        <data field="event_code" value="{capi:key-value-list(cap:eventCode)}">
          <xsl:value-of select="string-join(cap:eventCode ! (normalize-space(cap:valueName) || '=' || normalize-space(cap:value)), ', ')"/>
        </data>
      </xsl:if>
      <xsl:sequence select="capi:datetime('effective', cap:effective)"/>
      <xsl:sequence select="capi:datetime('onset', cap:onset)"/>
      <xsl:sequence select="capi:datetime('expires', cap:expires)"/>
      <xsl:sequence select="s3:data-text('sender_name', string(cap:senderName))"/>
      <xsl:sequence select="s3:data-text('headline', string(cap:headline))"/>
      <xsl:sequence select="s3:data-text('description', string(cap:description))"/>
      <xsl:sequence select="s3:data-text('instruction', string(cap:instruction))"/>
      <xsl:sequence select="s3:data-text('web', normalize-space(cap:web))"/>
      <xsl:sequence select="s3:data-text('contact', string(cap:contact))"/>
    </resource>
  </xsl:template>

  <!-- ===================================================================== locations -->
  <xsl:template match="cap:alert" mode="cap-import-locations">
    <xsl:variable name="uuid" select="capi:alert-uuid(.)"/>
    <xsl:for-each select="cap:info">
      <xsl:variable name="info-uuid" select="$uuid || ':info:' || position()"/>
      <xsl:for-each select="cap:area">
        <xsl:variable name="area-uuid" select="$info-uuid || ':area:' || position()"/>
        <xsl:variable name="area-name" select="normalize-space(cap:areaDesc)"/>
        <xsl:for-each select="capi:shapes(.)">
          <xsl:apply-templates select="." mode="cap-import-location">
            <xsl:with-param name="uuid" select="capi:shape-uuid(., $area-uuid)"/>
            <xsl:with-param name="name" select="$area-name"/>
          </xsl:apply-templates>
        </xsl:for-each>
      </xsl:for-each>
    </xsl:for-each>
  </xsl:template>

  <!-- A polygon: `lat,lon lat,lon …` becomes POLYGON ((lon lat, …)), closed if the sender forgot. -->
  <xsl:template match="cap:polygon" mode="cap-import-location">
    <xsl:param name="uuid" as="xs:string"/>
    <xsl:param name="name" as="xs:string"/>
    <xsl:variable name="pairs" select="capi:pairs(.)"/>
    <xsl:variable name="lats" select="for $p in $pairs return xs:decimal(substring-before($p, ','))"/>
    <xsl:variable name="lons" select="for $p in $pairs return xs:decimal(substring-after($p, ','))"/>
    <xsl:variable name="ring" select="if ($pairs[1] = $pairs[last()]) then $pairs else ($pairs, $pairs[1])"/>
    <resource name="gis_location" uuid="{$uuid}">
      <xsl:sequence select="s3:data-text('name', $name)"/>
      <data field="gis_feature_type" value="3">Polygon</data>
      <data field="wkt">
        <xsl:value-of select="'POLYGON ((' || string-join(for $p in $ring
            return substring-after($p, ',') || ' ' || substring-before($p, ','), ', ') || '))'"/>
      </data>
      <xsl:sequence select="capi:decimal-value('lat', (min($lats) + max($lats)) div 2)"/>
      <xsl:sequence select="capi:decimal-value('lon', (min($lons) + max($lons)) div 2)"/>
      <xsl:sequence select="capi:decimal-value('lat_min', min($lats))"/>
      <xsl:sequence select="capi:decimal-value('lat_max', max($lats))"/>
      <xsl:sequence select="capi:decimal-value('lon_min', min($lons))"/>
      <xsl:sequence select="capi:decimal-value('lon_max', max($lons))"/>
    </resource>
  </xsl:template>

  <!-- A circle: `lat,lon radiusKm` becomes a point with Eden's radius in metres. -->
  <xsl:template match="cap:circle" mode="cap-import-location">
    <xsl:param name="uuid" as="xs:string"/>
    <xsl:param name="name" as="xs:string"/>
    <xsl:variable name="centre" select="tokenize(normalize-space(.), ' ')[1]"/>
    <xsl:variable name="lat" select="normalize-space(substring-before($centre, ','))"/>
    <xsl:variable name="lon" select="normalize-space(substring-after($centre, ','))"/>
    <xsl:variable name="radius-km" select="xs:decimal(tokenize(normalize-space(.), ' ')[2])"/>
    <resource name="gis_location" uuid="{$uuid}">
      <xsl:sequence select="s3:data-text('name', $name)"/>
      <data field="gis_feature_type" value="1">Point</data>
      <data field="wkt">
        <xsl:value-of select="'POINT (' || $lon || ' ' || $lat || ')'"/>
      </data>
      <xsl:sequence select="capi:decimal-value('lat', xs:decimal($lat))"/>
      <xsl:sequence select="capi:decimal-value('lon', xs:decimal($lon))"/>
      <xsl:sequence select="capi:decimal-value('radius', $radius-km * 1000)"/>
    </resource>
  </xsl:template>

  <!-- ===================================================================== functions -->
  <xsl:function name="capi:alert-uuid" as="xs:string">
    <xsl:param name="alert" as="element()"/>
    <xsl:sequence select="'urn:x-cap:' || encode-for-uri(normalize-space($alert/cap:sender))
                          || ':' || encode-for-uri(normalize-space($alert/cap:identifier))"/>
  </xsl:function>

  <!-- Polygons and circles whose coordinates parse; the others are reported and skipped. -->
  <xsl:function name="capi:shapes" as="element()*">
    <xsl:param name="area" as="element()"/>
    <xsl:for-each select="$area/cap:polygon, $area/cap:circle">
      <xsl:choose>
        <xsl:when test="capi:is-usable-shape(.)">
          <xsl:sequence select="."/>
        </xsl:when>
        <xsl:otherwise>
          <xsl:message select="'sluice:warning cap ' || local-name() || ' skipped, coordinates do not parse: ' || normalize-space(.)"/>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>
  </xsl:function>

  <xsl:function name="capi:is-usable-shape" as="xs:boolean">
    <xsl:param name="shape" as="element()"/>
    <xsl:choose>
      <xsl:when test="local-name($shape) = 'polygon'">
        <xsl:variable name="pairs" select="capi:pairs($shape)"/>
        <xsl:sequence select="count($pairs) ge 3 and (every $p in $pairs satisfies capi:is-lat-lon($p))"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="parts" select="tokenize(normalize-space($shape), ' ')"/>
        <xsl:sequence select="count($parts) = 2 and capi:is-lat-lon($parts[1]) and $parts[2] castable as xs:decimal"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <xsl:function name="capi:pairs" as="xs:string*">
    <xsl:param name="polygon" as="element()"/>
    <xsl:sequence select="tokenize(normalize-space(replace($polygon, '\s*,\s*', ',')), ' ')"/>
  </xsl:function>

  <xsl:function name="capi:is-lat-lon" as="xs:boolean">
    <xsl:param name="pair" as="xs:string"/>
    <xsl:variable name="parts" select="tokenize($pair, ',')"/>
    <xsl:sequence select="count($parts) = 2 and (every $part in $parts satisfies $part castable as xs:decimal)
        and abs(xs:decimal($parts[1])) le 90 and abs(xs:decimal($parts[2])) le 180"/>
  </xsl:function>

  <xsl:function name="capi:shape-uuid" as="xs:string">
    <xsl:param name="shape" as="element()"/>
    <xsl:param name="area-uuid" as="xs:string"/>
    <xsl:variable name="same-kind" select="$shape/../*[node-name() = node-name($shape)]"/>
    <xsl:sequence select="$area-uuid || ':' || local-name($shape) || ':'
        || (for $i in 1 to count($same-kind) return $i[$same-kind[$i] is $shape])"/>
  </xsl:function>

  <!-- An option field: JSON string in @value (what Eden's importer decodes), CAP token as label. -->
  <xsl:function name="capi:option" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="element" as="element()?"/>
    <xsl:variable name="token" select="normalize-space($element)"/>
    <xsl:sequence select="if ($token = '') then () else s3:data-value($field, s3:json-string($token), $token)"/>
  </xsl:function>

  <xsl:function name="capi:list" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="items" as="xs:string*"/>
    <xsl:param name="label" as="xs:string?"/>
    <xsl:sequence select="if (empty($items)) then ()
        else s3:data-value($field, s3:json-list($items), ($label[normalize-space() != ''] ! normalize-space(), string-join($items, ', '))[1])"/>
  </xsl:function>

  <xsl:function name="capi:datetime" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="element" as="element()?"/>
    <xsl:variable name="text" select="normalize-space($element)"/>
    <xsl:variable name="utc" select="s3:eden-timestamp($text)"/>
    <xsl:choose>
      <xsl:when test="$text = ''"/>
      <xsl:when test="exists($utc)">
        <data field="{$field}" value="{$utc}">
          <xsl:value-of select="$text"/>
        </data>
      </xsl:when>
      <xsl:otherwise>
        <xsl:message select="'sluice:warning cap ' || local-name($element) || ' is not a date-time: ' || $text"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <xsl:function name="capi:decimal" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="element" as="element()?"/>
    <xsl:variable name="text" select="normalize-space($element)"/>
    <xsl:if test="$text != '' and $text castable as xs:decimal">
      <xsl:sequence select="capi:decimal-value($field, xs:decimal($text))"/>
    </xsl:if>
  </xsl:function>

  <xsl:function name="capi:decimal-value" as="element()">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="number" as="xs:decimal"/>
    <data field="{$field}" value="{$number}">
      <xsl:value-of select="$number"/>
    </data>
  </xsl:function>

  <!-- eventCode/geocode pairs as Eden's JSON list of {"key": valueName, "value": value}. -->
  <xsl:function name="capi:key-value-list" as="xs:string">
    <xsl:param name="pairs" as="element()*"/>
    <xsl:sequence select="'[' || string-join(for $pair in $pairs
        return '{&quot;key&quot;:' || s3:json-string(normalize-space($pair/cap:valueName))
            || ',&quot;value&quot;:' || s3:json-string(normalize-space($pair/cap:value)) || '}', ',') || ']'"/>
  </xsl:function>

</xsl:stylesheet>
