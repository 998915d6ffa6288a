<?xml version="1.0" encoding="UTF-8"?>
<!--
  Functions every format stylesheet needs to read and write S3XML values.

  S3XML keeps the machine value of a field JSON-encoded in `data/@value` (`"Actual"`,
  `["Met","Safety"]`, `12`, `true`) and a human label as the element text; plain strings carry only
  text. Timestamps are UTC without a zone (`YYYY-MM-DDTHH:MM:SS`). These functions hide both
  conventions, so format stylesheets never read a label where a value is meant.

  Included (xsl:include) by the CAP, HAVE, DE, CSV, GeoJSON and OSM stylesheets.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:array="http://www.w3.org/2005/xpath-functions/array"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    exclude-result-prefixes="#all">

  <xsl:key name="s3:resource-by-uuid" match="resource[@uuid]" use="@name || '|' || @uuid"/>
  <xsl:key name="s3:resource-by-tuid" match="resource[@tuid]" use="@name || '|' || @tuid"/>

  <!-- The machine values of a data element: the decoded JSON `value` when present, else the text. -->
  <xsl:function name="s3:values" as="xs:string*">
    <xsl:param name="data" as="element()?"/>
    <xsl:choose>
      <xsl:when test="empty($data)"/>
      <xsl:when test="$data/@value">
        <xsl:variable name="raw" select="string($data/@value)"/>
        <xsl:try>
          <xsl:sequence select="s3:json-atoms(parse-json($raw))"/>
          <!-- Eden keeps a value that is not JSON as the plain string, and so do we. -->
          <xsl:catch select="if (normalize-space($raw) = '') then () else $raw"/>
        </xsl:try>
      </xsl:when>
      <xsl:when test="string($data) != ''">
        <xsl:sequence select="string($data)"/>
      </xsl:when>
    </xsl:choose>
  </xsl:function>

  <xsl:function name="s3:json-atoms" as="xs:string*">
    <xsl:param name="json" as="item()?"/>
    <xsl:choose>
      <xsl:when test="empty($json)"/>
      <xsl:when test="$json instance of array(*)">
        <xsl:sequence select="for $member in array:flatten($json) return s3:json-atoms($member)"/>
      </xsl:when>
      <xsl:when test="$json instance of map(*)">
        <xsl:sequence select="serialize($json, map{'method':'json'})"/>
      </xsl:when>
      <xsl:when test="$json instance of xs:double">
        <xsl:sequence select="s3:number-text($json)"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:sequence select="string($json)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <!-- The decoded JSON of a data element's value (maps and arrays kept), or () when it has none. -->
  <xsl:function name="s3:json" as="item()?">
    <xsl:param name="data" as="element()?"/>
    <xsl:if test="$data/@value">
      <xsl:try select="parse-json(string($data/@value))">
        <xsl:catch select="()"/>
      </xsl:try>
    </xsl:if>
  </xsl:function>

  <!-- The first machine value of a field of a resource, or () when absent or empty. -->
  <xsl:function name="s3:value" as="xs:string?">
    <xsl:param name="resource" as="element()?"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:sequence select="s3:values($resource/data[@field = $field][1])[normalize-space(.) != ''][1]"/>
  </xsl:function>

  <xsl:function name="s3:list" as="xs:string*">
    <xsl:param name="resource" as="element()?"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:sequence select="s3:values($resource/data[@field = $field][1])[normalize-space(.) != '']"/>
  </xsl:function>

  <xsl:function name="s3:bool" as="xs:boolean?">
    <xsl:param name="resource" as="element()?"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:variable name="value" select="lower-case(normalize-space(s3:value($resource, $field)))"/>
    <xsl:sequence select="if ($value = ('true', '1', 'yes', 't', 'y')) then true()
                          else if ($value = ('false', '0', 'no', 'f', 'n')) then false() else ()"/>
  </xsl:function>

  <!-- Does $resource point at $target through reference field $field (by uuid or tuid)? -->
  <xsl:function name="s3:refers-to" as="xs:boolean">
    <xsl:param name="resource" as="element()"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="target" as="element()"/>
    <xsl:sequence select="exists($resource/reference[@field = $field]
        [(@uuid and $target/@uuid and string(@uuid) = string($target/@uuid))
         or (@tuid and $target/@tuid and string(@tuid) = string($target/@tuid))])"/>
  </xsl:function>

  <!-- The record a single-valued reference points at: the inline resource, or one in the document. -->
  <xsl:function name="s3:referenced" as="element()?">
    <xsl:param name="reference" as="element()?"/>
    <xsl:choose>
      <xsl:when test="empty($reference)"/>
      <xsl:when test="$reference/resource">
        <xsl:sequence select="$reference/resource[1]"/>
      </xsl:when>
      <xsl:when test="$reference/@uuid">
        <xsl:sequence select="key('s3:resource-by-uuid', $reference/@resource || '|' || $reference/@uuid, root($reference))[1]"/>
      </xsl:when>
      <xsl:when test="$reference/@tuid">
        <xsl:sequence select="key('s3:resource-by-tuid', $reference/@resource || '|' || $reference/@tuid, root($reference))[1]"/>
      </xsl:when>
    </xsl:choose>
  </xsl:function>

  <!-- Components of $master named $name, nested or (Eden's flat layout) pointing at it by $field. -->
  <xsl:function name="s3:children" as="element()*">
    <xsl:param name="master" as="element()"/>
    <xsl:param name="scope" as="element()"/>
    <xsl:param name="name" as="xs:string"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:sequence select="$master/resource[@name = $name][not(s3:is-deleted(.))]
        | $scope/resource[@name = $name][not(s3:is-deleted(.))][s3:refers-to(., $field, $master)]"/>
  </xsl:function>

  <xsl:function name="s3:is-deleted" as="xs:boolean">
    <xsl:param name="resource" as="element()"/>
    <xsl:sequence select="lower-case(string($resource/@deleted)) = ('true', '1')"/>
  </xsl:function>

  <!-- Any ISO-8601 date/time text as an xs:dateTime in UTC: naive text means UTC, as in Eden. -->
  <xsl:function name="s3:parse-datetime" as="xs:dateTime?">
    <xsl:param name="text" as="xs:string?"/>
    <xsl:variable name="clean" select="replace(normalize-space($text), '^(\d{4}-\d{2}-\d{2})[ T]', '$1T')"/>
    <xsl:variable name="zoned" select="replace($clean, '([+-]\d{2})(\d{2})$', '$1:$2')"/>
    <xsl:choose>
      <xsl:when test="$zoned castable as xs:dateTime">
        <!-- On a naive value this only attaches UTC; on a zoned one it converts to UTC. -->
        <xsl:sequence select="adjust-dateTime-to-timezone(xs:dateTime($zoned), xs:dayTimeDuration('PT0H'))"/>
      </xsl:when>
      <xsl:when test="matches($zoned, '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)?$')">
        <xsl:sequence select="s3:parse-datetime(replace($zoned, '^(.{16})', '$1:00'))"/>
      </xsl:when>
      <xsl:when test="$zoned castable as xs:date">
        <xsl:sequence select="s3:parse-datetime($zoned || 'T00:00:00')"/>
      </xsl:when>
    </xsl:choose>
  </xsl:function>

  <!-- `YYYY-MM-DDTHH:MM:SS` in UTC, the S3XML wire form (seconds precision, no zone). -->
  <xsl:function name="s3:eden-timestamp" as="xs:string?">
    <xsl:param name="text" as="xs:string?"/>
    <xsl:variable name="dt" select="s3:parse-datetime($text)"/>
    <xsl:sequence select="if (exists($dt)) then format-dateTime($dt, '[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]') else ()"/>
  </xsl:function>

  <!-- `YYYY-MM-DDThh:mm:ss-00:00`: explicit UTC offset, no fraction, no `Z` (what CAP demands). -->
  <xsl:function name="s3:offset-timestamp" as="xs:string?">
    <xsl:param name="text" as="xs:string?"/>
    <xsl:variable name="utc" select="s3:eden-timestamp($text)"/>
    <xsl:sequence select="if (exists($utc)) then $utc || '-00:00' else ()"/>
  </xsl:function>

  <!-- A JSON string literal; written by hand so that `/` stays unescaped and output is stable. -->
  <xsl:function name="s3:json-string" as="xs:string">
    <xsl:param name="text" as="xs:string?"/>
    <xsl:variable name="escaped" as="xs:string*">
      <xsl:analyze-string select="string($text)" regex="[&quot;\\\p{{Cc}}]">
        <xsl:matching-substring>
          <xsl:sequence select="
              if (. = '&quot;') then '\&quot;'
              else if (. = '\') then '\\'
              else if (. = '&#10;') then '\n'
              else if (. = '&#13;') then '\r'
              else if (. = '&#9;') then '\t'
              else '\u' || s3:hex4(string-to-codepoints(.))"/>
        </xsl:matching-substring>
        <xsl:non-matching-substring>
          <xsl:sequence select="."/>
        </xsl:non-matching-substring>
      </xsl:analyze-string>
    </xsl:variable>
    <xsl:sequence select="'&quot;' || string-join($escaped) || '&quot;'"/>
  </xsl:function>

  <xsl:function name="s3:hex4" as="xs:string">
    <xsl:param name="code" as="xs:integer"/>
    <xsl:variable name="digits" select="'0123456789abcdef'"/>
    <xsl:sequence select="string-join(for $shift in (12, 8, 4, 0)
        return substring($digits, (($code idiv xs:integer(math:pow(2, $shift))) mod 16) + 1, 1))"
        xmlns:math="http://www.w3.org/2005/xpath-functions/math"/>
  </xsl:function>

  <xsl:function name="s3:json-list" as="xs:string">
    <xsl:param name="items" as="xs:string*"/>
    <xsl:sequence select="'[' || string-join(for $item in $items return s3:json-string($item), ',') || ']'"/>
  </xsl:function>

  <!-- `<data field value="$json">$label</data>` for an option, list or number; nothing when $json is empty. -->
  <xsl:function name="s3:data-value" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="json" as="xs:string?"/>
    <xsl:param name="label" as="xs:string?"/>
    <xsl:if test="exists($json)">
      <data field="{$field}" value="{$json}">
        <xsl:value-of select="$label"/>
      </data>
    </xsl:if>
  </xsl:function>

  <!-- Emits `<data field>text</data>` for a plain string, or nothing when it is empty. -->
  <xsl:function name="s3:data-text" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="text" as="xs:string?"/>
    <xsl:if test="normalize-space($text) != ''">
      <data field="{$field}">
        <xsl:value-of select="$text"/>
      </data>
    </xsl:if>
  </xsl:function>

  <!-- A decimal without exponent or trailing zeros: 25000, 0.5, -120.14. -->
  <xsl:function name="s3:number-text" as="xs:string">
    <xsl:param name="number" as="xs:anyAtomicType"/>
    <xsl:sequence select="string(xs:decimal($number))"/>
  </xsl:function>

  <!-- Splits `a "b c" d` into a, b c, d (CAP addresses and incidents quote multi-word items). -->
  <xsl:function name="s3:split-quoted" as="xs:string*">
    <xsl:param name="text" as="xs:string?"/>
    <xsl:analyze-string select="string($text)" regex="&quot;([^&quot;]*)&quot;|(\S+)">
      <xsl:matching-substring>
        <xsl:sequence select="if (regex-group(1) != '') then regex-group(1) else regex-group(2)"/>
      </xsl:matching-substring>
    </xsl:analyze-string>
  </xsl:function>

  <xsl:function name="s3:join-quoted" as="xs:string">
    <xsl:param name="items" as="xs:string*"/>
    <xsl:sequence select="string-join(for $item in $items
        return if (matches($item, '\s')) then '&quot;' || $item || '&quot;' else $item, ' ')"/>
  </xsl:function>

  <!-- An NCName usable as an xs:ID (gml:id): `urn:uuid:6b7c…` becomes `id-urn-uuid-6b7c…`. -->
  <xsl:function name="s3:ncname" as="xs:string">
    <xsl:param name="prefix" as="xs:string"/>
    <xsl:param name="text" as="xs:string"/>
    <xsl:sequence select="$prefix || '-' || replace($text, '[^A-Za-z0-9._\-]', '-')"/>
  </xsl:function>

</xsl:stylesheet>
