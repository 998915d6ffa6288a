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
-->
<xsl:stylesheet version="3.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:xs="http://www.w3.org/2001/XMLSchema"
                xmlns:fn="http://www.w3.org/2005/xpath-functions"
                xmlns:u="urn:sluice:ushahidi-import"
                exclude-result-prefixes="xs fn u">

  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:param name="json" as="xs:string" required="yes"/>
  <xsl:param name="resource" as="xs:string" select="'event_incident_report'"/>
  <xsl:param name="status-field" as="xs:string" select="''"/>

  <xsl:variable name="doc" as="document-node()" select="json-to-xml($json)"/>
  <xsl:variable name="deployment" as="xs:string" select="string($doc/fn:map/fn:string[@key = 'deployment'])"/>
  <xsl:variable name="legacy" as="xs:boolean" select="$resource = 'irs_ireport'"/>
  <xsl:variable name="posts" as="element(fn:map)*" select="$doc/fn:map/fn:array[@key = 'posts']/fn:map"/>

  <xsl:function name="u:text" as="xs:string">
    <xsl:param name="post" as="element(fn:map)"/>
    <xsl:param name="key" as="xs:string"/>
    <xsl:sequence select="normalize-space(string($post/*[@key = $key][not(self::fn:null)]))"/>
  </xsl:function>

  <xsl:function name="u:type-tuid" as="xs:string">
    <xsl:param name="tag" as="xs:string"/>
    <xsl:sequence select="concat('INCIDENTTYPE:', $tag)"/>
  </xsl:function>

  <xsl:function name="u:has-point" as="xs:boolean">
    <xsl:param name="post" as="element(fn:map)"/>
    <xsl:sequence select="exists($post/fn:number[@key = 'lat']) and exists($post/fn:number[@key = 'lon'])"/>
  </xsl:function>

  <xsl:function name="u:location-uuid" as="xs:string">
    <xsl:param name="post" as="element(fn:map)"/>
    <xsl:sequence select="concat($deployment, '/location/', u:text($post, 'id'))"/>
  </xsl:function>

  <xsl:function name="u:first-category" as="xs:string">
    <xsl:param name="post" as="element(fn:map)"/>
    <xsl:sequence select="normalize-space(string(($post/fn:array[@key = 'categories']/fn:map/fn:string[@key = 'tag'][normalize-space()])[1]))"/>
  </xsl:function>

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
        <xsl:for-each-group select="$posts ! u:first-category(.)[. ne '']" group-by=".">
          <resource name="event_incident_type" tuid="{u:type-tuid(current-grouping-key())}">
            <data field="name"><xsl:value-of select="current-grouping-key()"/></data>
          </resource>
        </xsl:for-each-group>
      </xsl:if>
      <xsl:apply-templates select="$posts[u:has-point(.)]" mode="location"/>
      <xsl:apply-templates select="$posts" mode="report"/>
    </s3xml>
  </xsl:template>

  <!-- Also runnable with any source document (the source is ignored). -->
  <xsl:template match="/">
    <xsl:call-template name="xsl:initial-template"/>
  </xsl:template>

  <xsl:template match="fn:map" mode="location">
    <xsl:variable name="lat" select="string(fn:number[@key = 'lat'])"/>
    <xsl:variable name="lon" select="string(fn:number[@key = 'lon'])"/>
    <xsl:variable name="name" select="u:text(., 'locationName')"/>
    <resource name="gis_location" uuid="{u:location-uuid(.)}">
      <xsl:call-template name="timestamps"/>
      <data field="name"><xsl:value-of select="if ($name ne '') then $name else concat($lat, ', ', $lon)"/></data>
      <data field="gis_feature_type" value="1">Point</data>
      <data field="lat" value="{$lat}"><xsl:value-of select="$lat"/></data>
      <data field="lon" value="{$lon}"><xsl:value-of select="$lon"/></data>
    </resource>
  </xsl:template>

  <xsl:template name="timestamps">
    <xsl:variable name="created" select="u:text(., 'created')"/>
    <xsl:variable name="updated" select="u:text(., 'updated')"/>
    <xsl:if test="$created ne ''">
      <xsl:attribute name="created_on" select="$created"/>
    </xsl:if>
    <xsl:if test="$created ne '' or $updated ne ''">
      <xsl:attribute name="modified_on" select="if ($updated ne '') then $updated else $created"/>
    </xsl:if>
  </xsl:template>

  <xsl:template match="fn:map" mode="report">
    <xsl:variable name="id" select="u:text(., 'id')"/>
    <xsl:variable name="title" select="u:text(., 'title')"/>
    <xsl:variable name="content" select="string(fn:string[@key = 'content'])"/>
    <xsl:variable name="status" select="u:text(., 'status')"/>
    <xsl:variable name="when" select="(u:text(., 'occurred')[. ne ''], u:text(., 'created'))[1]"/>
    <xsl:variable name="category" select="u:first-category(.)"/>
    <xsl:variable name="triage" select="fn:map[@key = 'triage']"/>
    <xsl:variable name="verified" as="xs:boolean"
                  select="if ($triage/fn:boolean[@key = 'verified']) then xs:boolean($triage/fn:boolean[@key = 'verified']) else $status = 'published'"/>
    <!-- `name` is required in Eden; an untitled post is named after its text or its id. -->
    <xsl:variable name="name"
                  select="if ($title ne '') then $title
                          else if (normalize-space($content) ne '') then substring(normalize-space($content), 1, 80)
                          else concat('Ushahidi report ', $id)"/>
    <resource name="{$resource}" uuid="{concat($deployment, '/', $id)}">
      <xsl:call-template name="timestamps"/>
      <data field="name"><xsl:value-of select="$name"/></data>
      <xsl:choose>
        <xsl:when test="$legacy">
          <data field="message"><xsl:value-of select="$content"/></data>
          <data field="datetime"><xsl:value-of select="$when"/></data>
          <xsl:if test="$category ne ''">
            <data field="category"><xsl:value-of select="$category"/></data>
          </xsl:if>
          <data field="verified" value="{$verified}"><xsl:value-of select="if ($verified) then 'Yes' else 'No'"/></data>
        </xsl:when>
        <xsl:otherwise>
          <data field="description"><xsl:value-of select="$content"/></data>
          <data field="date"><xsl:value-of select="$when"/></data>
          <xsl:if test="$category ne ''">
            <reference field="incident_type_id" resource="event_incident_type" tuid="{u:type-tuid($category)}">
              <xsl:value-of select="$category"/>
            </reference>
          </xsl:if>
        </xsl:otherwise>
      </xsl:choose>
      <data field="closed" value="{$status = 'archived'}"><xsl:value-of select="if ($status = 'archived') then 'Yes' else 'No'"/></data>
      <xsl:if test="$status-field ne '' and $status ne ''">
        <data field="{$status-field}"><xsl:value-of select="$status"/></data>
      </xsl:if>
      <xsl:if test="u:has-point(.)">
        <reference field="location_id" resource="gis_location" uuid="{u:location-uuid(.)}"
                   lat="{fn:number[@key = 'lat']}" lon="{fn:number[@key = 'lon']}">
          <xsl:value-of select="(u:text(., 'locationName')[. ne ''], concat(fn:number[@key = 'lat'], ', ', fn:number[@key = 'lon']))[1]"/>
        </reference>
      </xsl:if>
      <xsl:variable name="notes" as="xs:string*">
        <xsl:variable name="tags" select="fn:array[@key = 'categories']/fn:map/fn:string[@key = 'tag'][normalize-space()]"/>
        <xsl:if test="exists($tags)">
          <xsl:sequence select="concat('Categories: ', string-join($tags ! normalize-space(.), ', '))"/>
        </xsl:if>
        <xsl:for-each select="fn:map[@key = 'values']/*[not(self::fn:null)]">
          <xsl:sequence select="concat(@key, ': ', u:flat(.))"/>
        </xsl:for-each>
        <xsl:if test="u:text(., 'source') ne ''">
          <xsl:sequence select="concat('Source: ', u:text(., 'source'))"/>
        </xsl:if>
        <xsl:sequence select="concat('Ushahidi status: ', $status,
                                     if ($triage/fn:boolean[@key = 'verified'] = true()) then ', verified' else '')"/>
      </xsl:variable>
      <data field="comments"><xsl:value-of select="string-join($notes, '&#10;')"/></data>
    </resource>
  </xsl:template>

</xsl:stylesheet>
