<?xml version="1.0" encoding="UTF-8"?>
<!--
  S3XML (cap_alert + components, gis_location) → CAP 1.2.

  Exactly one alert selected → one <alert>. None or several → an EDXL-DE 1.0 envelope with one
  contentObject per alert (CAP itself has no container for several alerts; DE is what CAP feeds use).

  Reads both layouts of the components: nested (cap_area inside cap_info, cap_area_location inside
  cap_area) and Eden's flat one (all components inside cap_alert, linked by info_id / area_id).
  Areas, parameters and resources that name no info belong to every info block.

  Every element is written in XSD order; optional elements that would be empty are left out;
  times are `YYYY-MM-DDThh:mm:ss-00:00` (UTC, never `Z` nor a fraction); closed enumerations take
  the S3 machine value (never the label) and an unknown value falls back to a safe default with a
  `sluice:unmapped` message, so the output always validates.

  Parameters (all optional): identifier (export only this alert), sender (fallback sender),
  utcnow (S3 timestamp, fallback for a missing `sent`), msguid / domain (DE envelope id / sender).
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns="urn:oasis:names:tc:emergency:cap:1.2"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:env="urn:x-sluice:de-envelope"
    xmlns:capx="urn:x-sluice:cap-export"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>
  <xsl:include href="../de/envelope.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:param name="identifier" as="xs:string" select="''"/>
  <xsl:param name="sender" as="xs:string" select="''"/>
  <xsl:param name="utcnow" as="xs:string" select="''"/>
  <xsl:param name="msguid" as="xs:string" select="''"/>
  <xsl:param name="domain" as="xs:string" select="''"/>

  <xsl:variable name="capx:statuses" select="('Actual', 'Exercise', 'System', 'Test', 'Draft')"/>
  <xsl:variable name="capx:msg-types" select="('Alert', 'Update', 'Cancel', 'Ack', 'Error')"/>
  <xsl:variable name="capx:scopes" select="('Public', 'Restricted', 'Private')"/>
  <xsl:variable name="capx:categories" select="('Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire',
      'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other')"/>
  <xsl:variable name="capx:response-types" select="('Shelter', 'Evacuate', 'Prepare', 'Execute', 'Avoid',
      'Monitor', 'Assess', 'AllClear', 'None')"/>
  <xsl:variable name="capx:urgencies" select="('Immediate', 'Expected', 'Future', 'Past', 'Unknown')"/>
  <xsl:variable name="capx:severities" select="('Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown')"/>
  <xsl:variable name="capx:certainties" select="('Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown')"/>

  <xsl:template match="/">
    <xsl:variable name="alerts" select="capx:selected-alerts(.)"/>
    <xsl:choose>
      <xsl:when test="count($alerts) = 1">
        <xsl:apply-templates select="$alerts" mode="cap-export"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="payloads" as="element()*">
          <xsl:apply-templates select="$alerts" mode="cap-export"/>
        </xsl:variable>
        <xsl:sequence select="env:distribution($payloads, map{
            'distribution-id': $msguid,
            'sender-id': ($sender[. != ''], if ($domain != '') then 'sluice@' || $domain else ())[1],
            'sent': $utcnow,
            'status': env:status-for-cap(($payloads/*:status)[1]),
            'type': 'Report',
            'descriptions': for $p in $payloads return string(($p/*:info/*:headline)[1])
          })"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:function name="capx:selected-alerts" as="element()*">
    <xsl:param name="document" as="document-node()"/>
    <!-- Templates (is_template) are dereferenced along with real alerts but are never sent. -->
    <xsl:sequence select="$document/s3xml/resource[@name = 'cap_alert'][not(s3:is-deleted(.))]
        [not(s3:bool(., 'is_template'))]
        [$identifier = '' or s3:value(., 'identifier') = $identifier]"/>
  </xsl:function>

  <!-- ===================================================================== alert -->
  <xsl:template match="resource[@name = 'cap_alert']" mode="cap-export">
    <xsl:variable name="alert" select="."/>
    <xsl:variable name="scope" select="capx:enum(., 'scope', $capx:scopes, 'Public')"/>
    <alert>
      <identifier>
        <xsl:value-of select="(s3:value(., 'identifier'), capx:identifier-from-uuid(@uuid))[1]"/>
      </identifier>
      <sender>
        <xsl:value-of select="(s3:value(., 'sender'), $sender[. != ''],
            if ($domain != '') then 'sluice@' || $domain else (), 'sluice')[1]"/>
      </sender>
      <sent>
        <xsl:value-of select="(s3:offset-timestamp(s3:value(., 'sent')), s3:offset-timestamp(@created_on),
            s3:offset-timestamp(@modified_on), s3:offset-timestamp($utcnow),
            s3:offset-timestamp(string(current-dateTime())))[1]"/>
      </sent>
      <status>
        <xsl:value-of select="capx:enum(., 'status', $capx:statuses, 'Actual')"/>
      </status>
      <msgType>
        <xsl:value-of select="capx:enum(., 'msg_type', $capx:msg-types, 'Alert')"/>
      </msgType>
      <xsl:sequence select="capx:optional('source', s3:value(., 'source'))"/>
      <scope>
        <xsl:value-of select="$scope"/>
      </scope>
      <xsl:if test="$scope = 'Restricted'">
        <xsl:sequence select="capx:optional('restriction', s3:value(., 'restriction'))"/>
      </xsl:if>
      <xsl:sequence select="capx:optional('addresses', s3:join-quoted(s3:list(., 'addresses')))"/>
      <xsl:for-each select="s3:list(., 'codes')">
        <code>
          <xsl:value-of select="."/>
        </code>
      </xsl:for-each>
      <xsl:sequence select="capx:optional('note', s3:value(., 'note'))"/>
      <xsl:sequence select="capx:optional('references', capx:references(.))"/>
      <xsl:sequence select="capx:optional('incidents', s3:join-quoted(s3:list(., 'incidents')))"/>
      <xsl:for-each select="s3:children(., ., 'cap_info', 'alert_id')">
        <xsl:apply-templates select="." mode="cap-export">
          <xsl:with-param name="alert" select="$alert"/>
        </xsl:apply-templates>
      </xsl:for-each>
    </alert>
  </xsl:template>

  <!-- ===================================================================== info -->
  <xsl:template match="resource[@name = 'cap_info']" mode="cap-export">
    <xsl:param name="alert" as="element()"/>
    <xsl:variable name="info" select="."/>
    <info>
      <xsl:sequence select="capx:optional('language', s3:value(., 'language'))"/>
      <xsl:variable name="categories" select="capx:enum-list(., 'category', $capx:categories)"/>
      <xsl:for-each select="if (exists($categories)) then $categories else 'Other'">
        <category>
          <xsl:value-of select="."/>
        </category>
      </xsl:for-each>
      <event>
        <xsl:value-of select="s3:value(., 'event')"/>
      </event>
      <xsl:for-each select="capx:enum-list(., 'response_type', $capx:response-types)">
        <responseType>
          <xsl:value-of select="."/>
        </responseType>
      </xsl:for-each>
      <urgency>
        <xsl:value-of select="capx:enum(., 'urgency', $capx:urgencies, 'Unknown')"/>
      </urgency>
      <severity>
        <xsl:value-of select="capx:enum(., 'severity', $capx:severities, 'Unknown')"/>
      </severity>
      <certainty>
        <xsl:value-of select="capx:enum(., 'certainty', $capx:certainties, 'Unknown')"/>
      </certainty>
      <xsl:sequence select="capx:optional('audience', s3:value(., 'audience'))"/>
      <xsl:for-each select="capx:key-values(data[@field = 'event_code'][1])">
        <eventCode>
          <valueName>
            <xsl:value-of select="?key"/>
          </valueName>
          <value>
            <xsl:value-of select="?value"/>
          </value>
        </eventCode>
      </xsl:for-each>
      <xsl:sequence select="capx:optional('effective', s3:offset-timestamp(s3:value(., 'effective')))"/>
      <xsl:sequence select="capx:optional('onset', s3:offset-timestamp(s3:value(., 'onset')))"/>
      <xsl:sequence select="capx:optional('expires', s3:offset-timestamp(s3:value(., 'expires')))"/>
      <xsl:sequence select="capx:optional('senderName', s3:value(., 'sender_name'))"/>
      <xsl:sequence select="capx:optional('headline', s3:value(., 'headline'))"/>
      <xsl:sequence select="capx:optional('description', s3:value(., 'description'))"/>
      <xsl:sequence select="capx:optional('instruction', s3:value(., 'instruction'))"/>
      <xsl:sequence select="capx:optional('web', s3:value(., 'web')[. castable as xs:anyURI])"/>
      <xsl:sequence select="capx:optional('contact', s3:value(., 'contact'))"/>
      <xsl:for-each select="capx:belonging-to-info(., $alert, 'cap_info_parameter')">
        <parameter>
          <valueName>
            <xsl:value-of select="s3:value(., 'name')"/>
          </valueName>
          <value>
            <xsl:value-of select="s3:value(., 'value')"/>
          </value>
        </parameter>
      </xsl:for-each>
      <xsl:for-each select="capx:belonging-to-info(., $alert, 'cap_resource')">
        <resource>
          <resourceDesc>
            <xsl:value-of select="s3:value(., 'resource_desc')"/>
          </resourceDesc>
          <mimeType>
            <xsl:value-of select="(s3:value(., 'mime_type'), 'application/octet-stream')[1]"/>
          </mimeType>
          <xsl:sequence select="capx:optional('size', s3:value(., 'size')[. castable as xs:integer] ! string(xs:integer(.)))"/>
          <xsl:sequence select="capx:optional('uri', s3:value(., 'uri')[. castable as xs:anyURI])"/>
          <xsl:sequence select="capx:optional('derefUri', s3:value(., 'deref_uri'))"/>
          <xsl:sequence select="capx:optional('digest', s3:value(., 'digest'))"/>
        </resource>
      </xsl:for-each>
      <xsl:for-each select="capx:belonging-to-info(., $alert, 'cap_area')">
        <xsl:apply-templates select="." mode="cap-export">
          <xsl:with-param name="alert" select="$alert"/>
        </xsl:apply-templates>
      </xsl:for-each>
    </info>
  </xsl:template>

  <!-- ===================================================================== area -->
  <xsl:template match="resource[@name = 'cap_area']" mode="cap-export">
    <xsl:param name="alert" as="element()"/>
    <xsl:variable name="area" select="."/>
    <xsl:variable name="locations" select="for $link in s3:children(., $alert, 'cap_area_location', 'area_id')
        return s3:referenced($link/reference[@field = 'location_id'][1])"/>
    <xsl:variable name="tags" select="s3:children(., $alert, 'cap_area_tag', 'area_id')"/>
    <area>
      <areaDesc>
        <xsl:value-of select="(s3:value(., 'name'), $locations ! s3:value(., 'name'))[1]"/>
      </areaDesc>
      <xsl:for-each select="$locations">
        <xsl:for-each select="capx:polygons(.)">
          <polygon>
            <xsl:value-of select="."/>
          </polygon>
        </xsl:for-each>
      </xsl:for-each>
      <xsl:for-each select="$locations">
        <xsl:sequence select="capx:optional('circle', capx:circle(.))"/>
      </xsl:for-each>
      <xsl:for-each select="$tags">
        <geocode>
          <valueName>
            <xsl:value-of select="s3:value(., 'tag')"/>
          </valueName>
          <value>
            <xsl:value-of select="s3:value(., 'value')"/>
          </value>
        </geocode>
      </xsl:for-each>
      <xsl:variable name="altitude" select="s3:value(., 'altitude')[. castable as xs:decimal]"/>
      <xsl:if test="exists($altitude)">
        <altitude>
          <xsl:value-of select="xs:decimal($altitude)"/>
        </altitude>
        <!-- CAP allows a ceiling only together with an altitude. -->
        <xsl:sequence select="capx:optional('ceiling', s3:value(., 'ceiling')[. castable as xs:decimal] ! string(xs:decimal(.)))"/>
      </xsl:if>
    </area>
  </xsl:template>

  <!-- ===================================================================== functions -->

  <!-- Components of an info block: its own, plus alert-wide ones that name no info. -->
  <xsl:function name="capx:belonging-to-info" as="element()*">
    <xsl:param name="info" as="element()"/>
    <xsl:param name="alert" as="element()"/>
    <xsl:param name="name" as="xs:string"/>
    <xsl:sequence select="s3:children($info, $alert, $name, 'info_id')
        | $alert/resource[@name = $name][not(s3:is-deleted(.))][not(reference[@field = 'info_id'])]"/>
  </xsl:function>

  <xsl:function name="capx:optional" as="element()?">
    <xsl:param name="name" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:if test="normalize-space($value) != ''">
      <xsl:element name="{$name}" namespace="urn:oasis:names:tc:emergency:cap:1.2">
        <xsl:value-of select="$value"/>
      </xsl:element>
    </xsl:if>
  </xsl:function>

  <xsl:function name="capx:enum" as="xs:string">
    <xsl:param name="resource" as="element()"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="allowed" as="xs:string*"/>
    <xsl:param name="default" as="xs:string"/>
    <xsl:variable name="value" select="s3:value($resource, $field)"/>
    <xsl:variable name="match" select="$allowed[lower-case(.) = lower-case(normalize-space($value))]"/>
    <xsl:if test="exists($value) and empty($match)">
      <xsl:message select="'sluice:unmapped cap ' || $resource/@name || '.' || $field || ' ' || s3:json-string($value) || ' replaced by ' || $default"/>
    </xsl:if>
    <xsl:sequence select="($match, $default)[1]"/>
  </xsl:function>

  <xsl:function name="capx:enum-list" as="xs:string*">
    <xsl:param name="resource" as="element()"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="allowed" as="xs:string*"/>
    <xsl:for-each select="s3:list($resource, $field)">
      <xsl:variable name="value" select="normalize-space(.)"/>
      <xsl:variable name="match" select="$allowed[lower-case(.) = lower-case($value)]"/>
      <xsl:choose>
        <xsl:when test="exists($match)">
          <xsl:sequence select="$match[1]"/>
        </xsl:when>
        <xsl:otherwise>
          <xsl:message select="'sluice:unmapped cap ' || $resource/@name || '.' || $field || ' ' || s3:json-string($value) || ' dropped'"/>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>
  </xsl:function>

  <!-- event_code: Eden's JSON list of {"key","value"} (or of single-entry objects). -->
  <xsl:function name="capx:key-values" as="map(*)*">
    <xsl:param name="data" as="element()?"/>
    <xsl:variable name="json" select="s3:json($data)"/>
    <xsl:variable name="entries" select="if ($json instance of array(*)) then $json?* else $json"/>
    <xsl:for-each select="$entries[. instance of map(*)]">
      <xsl:variable name="entry" select="."/>
      <xsl:choose>
        <xsl:when test="map:contains($entry, 'key') or map:contains($entry, 'valueName')">
          <xsl:sequence select="map{'key': string(($entry?key, $entry?valueName)[1]), 'value': string($entry?value)}"/>
        </xsl:when>
        <xsl:otherwise>
          <xsl:for-each select="sort(map:keys($entry))">
            <xsl:sequence select="map{'key': ., 'value': string($entry(.))}"/>
          </xsl:for-each>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>
  </xsl:function>

  <!-- The references triplets: Eden's text field, else built from referenced cap_alert records. -->
  <xsl:function name="capx:references" as="xs:string?">
    <xsl:param name="alert" as="element()"/>
    <xsl:variable name="text" select="normalize-space(string-join((s3:value($alert, 'reference'), s3:value($alert, 'references')), ' '))"/>
    <xsl:choose>
      <xsl:when test="$text != ''">
        <xsl:sequence select="$text"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="triplets" select="for $uid in $alert/reference[@field = 'reference'][@resource = 'cap_alert'] ! capx:uids(.),
            $earlier in key('s3:resource-by-uuid', 'cap_alert|' || $uid, root($alert))[1]
            return string-join((s3:value($earlier, 'sender'), s3:value($earlier, 'identifier'),
                s3:offset-timestamp(s3:value($earlier, 'sent'))), ',')"/>
        <xsl:sequence select="string-join($triplets, ' ')[. != '']"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <!-- The uids of a reference: one, or a JSON list for list:reference fields. -->
  <xsl:function name="capx:uids" as="xs:string*">
    <xsl:param name="reference" as="element()"/>
    <xsl:variable name="raw" select="normalize-space($reference/@uuid)"/>
    <xsl:choose>
      <xsl:when test="starts-with($raw, '[')">
        <xsl:try select="array:flatten(parse-json($raw)) ! string(.)" xmlns:array="http://www.w3.org/2005/xpath-functions/array">
          <xsl:catch select="()"/>
        </xsl:try>
      </xsl:when>
      <xsl:when test="$raw != ''">
        <xsl:sequence select="$raw"/>
      </xsl:when>
    </xsl:choose>
  </xsl:function>

  <!-- CAP identifiers may hold no spaces, commas, < or &; a uuid is a fine stand-in. -->
  <xsl:function name="capx:identifier-from-uuid" as="xs:string">
    <xsl:param name="uuid" as="xs:string?"/>
    <xsl:sequence select="(replace(replace(string($uuid), '^urn:uuid:', ''), '[\s,&lt;&amp;]', '_')[. != ''], 'sluice-alert')[1]"/>
  </xsl:function>

  <!-- WKT outer rings (POLYGON and MULTIPOLYGON; holes dropped) as CAP `lat,lon` polygons. -->
  <xsl:function name="capx:polygons" as="xs:string*">
    <xsl:param name="location" as="element()"/>
    <xsl:variable name="wkt" select="normalize-space(s3:value($location, 'wkt'))"/>
    <xsl:if test="matches($wkt, '^(MULTI)?POLYGON', 'i')">
      <xsl:analyze-string select="$wkt" regex="\(\s*\(([^()]*)\)">
        <xsl:matching-substring>
          <xsl:variable name="pairs" select="for $point in tokenize(regex-group(1), ',')
              return tokenize(normalize-space($point), ' ')[position() le 2]
                  => reverse() => string-join(',')"/>
          <xsl:variable name="ring" select="if ($pairs[1] = $pairs[last()]) then $pairs else ($pairs, $pairs[1])"/>
          <xsl:choose>
            <xsl:when test="count($ring) ge 4">
              <xsl:sequence select="string-join($ring, ' ')"/>
            </xsl:when>
            <xsl:otherwise>
              <xsl:message select="'sluice:warning cap polygon with fewer than 4 points dropped from ' || $location/@uuid"/>
            </xsl:otherwise>
          </xsl:choose>
        </xsl:matching-substring>
      </xsl:analyze-string>
    </xsl:if>
  </xsl:function>

  <!-- A point (WKT POINT or lat/lon) with Eden's radius in metres as a CAP `lat,lon km` circle. -->
  <xsl:function name="capx:circle" as="xs:string?">
    <xsl:param name="location" as="element()"/>
    <xsl:variable name="wkt" select="normalize-space(s3:value($location, 'wkt'))"/>
    <xsl:variable name="point" select="if (matches($wkt, '^POINT', 'i'))
        then tokenize(normalize-space(replace($wkt, '^POINT\s*\(([^)]*)\).*$', '$1', 'i')), ' ')
        else ()"/>
    <xsl:variable name="lon" select="($point[1], s3:value($location, 'lon'))[1]"/>
    <xsl:variable name="lat" select="($point[2], s3:value($location, 'lat'))[1]"/>
    <xsl:variable name="radius-m" select="s3:value($location, 'radius')[. castable as xs:decimal]"/>
    <xsl:if test="not(matches($wkt, '^(MULTI)?POLYGON', 'i'))
        and $lat castable as xs:decimal and $lon castable as xs:decimal">
      <xsl:sequence select="$lat || ',' || $lon || ' ' || (if (exists($radius-m)) then s3:number-text(xs:decimal($radius-m) div 1000) else '0')"/>
    </xsl:if>
  </xsl:function>

</xsl:stylesheet>
