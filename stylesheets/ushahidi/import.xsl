<?xml version="1.0" encoding="UTF-8"?>
<!--
  Ushahidi posts → S3XML tickets.

  Input: no source document. The posts arrive as JSON text in the `json` parameter, in the shape
  src/ushahidi/import-document.ts documents ({deployment, api, posts:[normalised posts]}); both the
  v5 and the v2 client produce it, so one stylesheet serves both APIs.

  Output, per post: a gis_location (when the post has a point) and one `$resource` record with uuid
  `<deployment>/<post id>`, so a re-poll updates the ticket instead of adding one. Category names
  become event_incident_type records matched by name (the source's value mapping then turns them
  into the instance's incident types).

  Parameters:
    json          the document (required)
    resource      event_incident_report (default) or irs_ireport (Eden ≤ 2020 names its fields
                  message/datetime/category/verified); any other name gets the event layout
    status-field  when set, the Ushahidi status is also written to this field, for value mappings

  Speed: every polled post goes through this sheet, and in SaxonJS it is the poll's largest cost.
  A `*[@key = …]` step over a post's members costs 15–20 µs there, so each post's members are put
  in a map by key once ($posts) and read from there (0.6 → 0.38 ms of CPU per post, see
  tools/bench/ushahidi-import.ts; parse-json() maps measured no faster). The JSON still enters through
  json-to-xml(), not parse-json(): that keeps numbers as they were written (ids above a million
  would otherwise become 1.0E6) and custom fields in the order the API sent them.
-->
<xsl:stylesheet version="3.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:xs="http://www.w3.org/2001/XMLSchema"
                xmlns:fn="http://www.w3.org/2005/xpath-functions"
                xmlns:map="http://www.w3.org/2005/xpath-functions/map"
                xmlns:u="urn:sluice:ushahidi-import"
                exclude-result-prefixes="xs fn map u">

  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:param name="json" as="xs:string" required="yes"/>
  <xsl:param name="resource" as="xs:string" select="'event_incident_report'"/>
  <xsl:param name="status-field" as="xs:string" select="''"/>

  <xsl:variable name="doc" as="document-node()" select="json-to-xml($json)"/>
  <xsl:variable name="deployment" as="xs:string" select="string($doc/fn:map/fn:string[@key = 'deployment'])"/>
  <xsl:variable name="legacy" as="xs:boolean" select="$resource = 'irs_ireport'"/>

  <!--
    One map per post: member name → a few values read once. Text members are normalised strings
    (a JSON null reads as ''); `lat`/`lon` are the numbers as written, present only when both are.
  -->
  <xsl:variable name="posts" as="map(*)*">
    <xsl:for-each select="$doc/fn:map/fn:array[@key = 'posts']/fn:map">
      <xsl:variable name="member" as="map(xs:string, element())" select="map:merge(* ! map:entry(string(@key), .))"/>
      <xsl:variable name="lat" select="$member?lat[self::fn:number]"/>
      <xsl:variable name="lon" select="$member?lon[self::fn:number]"/>
      <xsl:variable name="tags" as="xs:string*"
                    select="$member?categories[self::fn:array]/fn:map/fn:string[@key = 'tag'] ! normalize-space(.)[. ne '']"/>
      <xsl:variable name="created" select="normalize-space($member?created)"/>
      <xsl:variable name="updated" select="normalize-space($member?updated)"/>
      <xsl:sequence select="map {
          'id': normalize-space($member?id),
          'title': normalize-space($member?title),
          'content': string($member?content[self::fn:string]),
          'status': normalize-space($member?status),
          'created': $created,
          'modified': if ($updated ne '') then $updated else $created,
          'occurred': normalize-space($member?occurred),
          'point': if (exists($lat) and exists($lon)) then (string($lat), string($lon)) else (),
          'place': normalize-space($member?locationName),
          'tags': $tags,
          'category': string($tags[1]),
          'values': $member?values[self::fn:map]/*[not(self::fn:null)],
          'source': normalize-space($member?source),
          'verified-flag': $member?triage[self::fn:map]/fn:boolean[@key = 'verified']
        }"/>
    </xsl:for-each>
  </xsl:variable>

  <!-- A value of any JSON type as one line of text. -->
  <xsl:function name="u:flat" as="xs:string">
    <xsl:param name="value" as="element()"/>
    <xsl:sequence select="if ($value/self::fn:map or $value/self::fn:array)
                          then string-join($value//text()[normalize-space()], ', ')
                          else string($value)"/>
  </xsl:function>

  <xsl:template name="xsl:initial-template">
    <s3xml domain="{$deployment}">
      <xsl:if test="not($legacy)">
        <xsl:for-each-group select="$posts ! ?category[. ne '']" group-by=".">
          <resource name="event_incident_type" tuid="INCIDENTTYPE:{current-grouping-key()}">
            <data field="name"><xsl:value-of select="current-grouping-key()"/></data>
          </resource>
        </xsl:for-each-group>
      </xsl:if>
      <xsl:for-each select="$posts[exists(?point)]">
        <xsl:variable name="lat" select="?point[1]"/>
        <xsl:variable name="lon" select="?point[2]"/>
        <resource name="gis_location" uuid="{$deployment}/location/{?id}">
          <xsl:call-template name="timestamps"/>
          <data field="name"><xsl:value-of select="if (?place ne '') then ?place else concat($lat, ', ', $lon)"/></data>
          <data field="gis_feature_type" value="1">Point</data>
          <data field="lat" value="{$lat}"><xsl:value-of select="$lat"/></data>
          <data field="lon" value="{$lon}"><xsl:value-of select="$lon"/></data>
        </resource>
      </xsl:for-each>
      <xsl:for-each select="$posts">
        <xsl:call-template name="report"/>
      </xsl:for-each>
    </s3xml>
  </xsl:template>

  <!-- Also runnable with any source document (the source is ignored). -->
  <xsl:template match="/">
    <xsl:call-template name="xsl:initial-template"/>
  </xsl:template>

  <!-- Context: a post's map. -->
  <xsl:template name="timestamps">
    <xsl:if test="?created ne ''">
      <xsl:attribute name="created_on" select="?created"/>
    </xsl:if>
    <xsl:if test="?modified ne ''">
      <xsl:attribute name="modified_on" select="?modified"/>
    </xsl:if>
  </xsl:template>

  <!-- Context: a post's map. -->
  <xsl:template name="report">
    <xsl:variable name="id" select="?id"/>
    <xsl:variable name="content" select="?content"/>
    <xsl:variable name="status" select="?status"/>
    <xsl:variable name="category" select="?category"/>
    <xsl:variable name="verified-flag" select="?verified-flag"/>
    <xsl:variable name="verified" as="xs:boolean"
                  select="if ($verified-flag) then xs:boolean($verified-flag) else $status = 'published'"/>
    <!-- `name` is required in Eden; an untitled post is named after its text or its id. -->
    <xsl:variable name="name"
                  select="if (?title ne '') then ?title
                          else if (normalize-space($content) ne '') then substring(normalize-space($content), 1, 80)
                          else concat('Ushahidi report ', $id)"/>
    <resource name="{$resource}" uuid="{$deployment}/{$id}">
      <xsl:call-template name="timestamps"/>
      <data field="name"><xsl:value-of select="$name"/></data>
      <xsl:choose>
        <xsl:when test="$legacy">
          <data field="message"><xsl:value-of select="$content"/></data>
          <data field="datetime"><xsl:value-of select="(?occurred[. ne ''], ?created)[1]"/></data>
          <xsl:if test="$category ne ''">
            <data field="category"><xsl:value-of select="$category"/></data>
          </xsl:if>
          <data field="verified" value="{$verified}"><xsl:value-of select="if ($verified) then 'Yes' else 'No'"/></data>
        </xsl:when>
        <xsl:otherwise>
          <data field="description"><xsl:value-of select="$content"/></data>
          <data field="date"><xsl:value-of select="(?occurred[. ne ''], ?created)[1]"/></data>
          <xsl:if test="$category ne ''">
            <reference field="incident_type_id" resource="event_incident_type" tuid="INCIDENTTYPE:{$category}">
              <xsl:value-of select="$category"/>
            </reference>
          </xsl:if>
        </xsl:otherwise>
      </xsl:choose>
      <data field="closed" value="{$status = 'archived'}"><xsl:value-of select="if ($status = 'archived') then 'Yes' else 'No'"/></data>
      <xsl:if test="$status-field ne '' and $status ne ''">
        <data field="{$status-field}"><xsl:value-of select="$status"/></data>
      </xsl:if>
      <xsl:if test="exists(?point)">
        <reference field="location_id" resource="gis_location" uuid="{$deployment}/location/{$id}"
                   lat="{?point[1]}" lon="{?point[2]}">
          <xsl:value-of select="if (?place ne '') then ?place else concat(?point[1], ', ', ?point[2])"/>
        </reference>
      </xsl:if>
      <data field="comments"><xsl:value-of select="string-join((
          if (exists(?tags)) then concat('Categories: ', string-join(?tags, ', ')) else (),
          ?values ! concat(@key, ': ', u:flat(.)),
          if (?source ne '') then concat('Source: ', ?source) else (),
          concat('Ushahidi status: ', $status, if ($verified-flag = true()) then ', verified' else '')
        ), '&#10;')"/></data>
    </resource>
  </xsl:template>

</xsl:stylesheet>
