<?xml version="1.0" encoding="UTF-8"?>
<!--
  Benchmark mapping: S3XML organisations to a 16-column CSV, written the way Eden's XSLT 1.0
  stylesheets are (named templates called with content parameters, recursive string templates).
  Uses xsl:key on the referenced gis_location records, a lookup table read with document() and
  searched through a second key, xsl:sort, translate/normalize-space/substring-before.
  Runs unchanged under xsltproc and Sluice; the outputs must be byte-identical.
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>

  <xsl:param name="separator" select="','"/>

  <xsl:key name="location" match="resource[@name='gis_location']" use="@uuid"/>
  <xsl:key name="lookup" match="entry" use="concat(../@name, '|', @code)"/>

  <xsl:variable name="lookups" select="document('lookups.xml')"/>
  <xsl:variable name="newline" select="'&#10;'"/>

  <xsl:template match="/">
    <xsl:text>uuid,name,acronym,type,country,website,phone,sectors,location,lat,lon,modified,status,offices,office_list,comments</xsl:text>
    <xsl:value-of select="$newline"/>
    <xsl:apply-templates select="s3xml/resource[@name='org_organisation']"/>
  </xsl:template>

  <xsl:template match="resource">
    <xsl:variable name="location" select="key('location', reference[@field='location_id']/@uuid)"/>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="@uuid"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="normalize-space(data[@field='name'])"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="translate(data[@field='acronym'], 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value">
        <xsl:call-template name="lookup">
          <xsl:with-param name="list" select="'organisation_type'"/>
          <xsl:with-param name="code" select="data[@field='organisation_type']/@value"/>
          <xsl:with-param name="default" select="'Other'"/>
        </xsl:call-template>
      </xsl:with-param>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value">
        <xsl:call-template name="lookup">
          <xsl:with-param name="list" select="'country'"/>
          <xsl:with-param name="code" select="translate(data[@field='country']/@value, '&quot;', '')"/>
          <xsl:with-param name="default" select="'Unknown'"/>
        </xsl:call-template>
      </xsl:with-param>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="data[@field='website']"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="translate(data[@field='phone'], ' ()-', '')"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value">
        <xsl:call-template name="sectors">
          <xsl:with-param name="codes" select="translate(data[@field='sector']/@value, '[]&quot; ', '')"/>
        </xsl:call-template>
      </xsl:with-param>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value">
        <xsl:choose>
          <xsl:when test="$location">
            <xsl:value-of select="$location/data[@field='name']"/>
          </xsl:when>
          <xsl:otherwise>(unknown location)</xsl:otherwise>
        </xsl:choose>
      </xsl:with-param>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="$location/data[@field='lat']/@value"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="$location/data[@field='lon']/@value"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="substring-before(@modified_on, 'T')"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value">
        <xsl:choose>
          <xsl:when test="@deleted='True' or @deleted='true'">deleted</xsl:when>
          <xsl:otherwise>active</xsl:otherwise>
        </xsl:choose>
      </xsl:with-param>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="count(resource[@name='org_office'])"/>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value">
        <xsl:for-each select="resource[@name='org_office']">
          <xsl:sort select="data[@field='name']"/>
          <xsl:if test="position() &gt; 1"> | </xsl:if>
          <xsl:value-of select="data[@field='name']"/>
          <xsl:text> [</xsl:text>
          <xsl:call-template name="lookup">
            <xsl:with-param name="list" select="'office_type'"/>
            <xsl:with-param name="code" select="data[@field='office_type_id']/@value"/>
            <xsl:with-param name="default" select="'?'"/>
          </xsl:call-template>
          <xsl:text>] @ </xsl:text>
          <xsl:value-of select="key('location', reference[@field='location_id']/@uuid)/data[@field='name']"/>
        </xsl:for-each>
      </xsl:with-param>
    </xsl:call-template>
    <xsl:call-template name="field">
      <xsl:with-param name="value" select="data[@field='comments']"/>
      <xsl:with-param name="last" select="true()"/>
    </xsl:call-template>
  </xsl:template>

  <!-- One CSV cell (RFC 4180): quoted when it holds a separator, a quote or a line break. -->
  <xsl:template name="field">
    <xsl:param name="value"/>
    <xsl:param name="last" select="false()"/>
    <xsl:choose>
      <xsl:when test="contains($value, ',') or contains($value, '&quot;') or contains($value, $newline)">
        <xsl:text>"</xsl:text>
        <xsl:call-template name="escape-quotes">
          <xsl:with-param name="text" select="$value"/>
        </xsl:call-template>
        <xsl:text>"</xsl:text>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="$value"/>
      </xsl:otherwise>
    </xsl:choose>
    <xsl:choose>
      <xsl:when test="$last">
        <xsl:value-of select="$newline"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="$separator"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="escape-quotes">
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="contains($text, '&quot;')">
        <xsl:value-of select="substring-before($text, '&quot;')"/>
        <xsl:text>""</xsl:text>
        <xsl:call-template name="escape-quotes">
          <xsl:with-param name="text" select="substring-after($text, '&quot;')"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:value-of select="$text"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The label of an option code, from the lookup table (key() needs its document as context). -->
  <xsl:template name="lookup">
    <xsl:param name="list"/>
    <xsl:param name="code"/>
    <xsl:param name="default"/>
    <xsl:for-each select="$lookups">
      <xsl:variable name="label" select="key('lookup', concat($list, '|', $code))"/>
      <xsl:choose>
        <xsl:when test="$label">
          <xsl:value-of select="$label"/>
        </xsl:when>
        <xsl:otherwise>
          <xsl:value-of select="$default"/>
        </xsl:otherwise>
      </xsl:choose>
    </xsl:for-each>
  </xsl:template>

  <!-- "HEA,WASH" → "Health; Water, Sanitation & Hygiene" -->
  <xsl:template name="sectors">
    <xsl:param name="codes"/>
    <xsl:param name="first" select="true()"/>
    <xsl:if test="$codes != ''">
      <xsl:variable name="code">
        <xsl:choose>
          <xsl:when test="contains($codes, ',')">
            <xsl:value-of select="substring-before($codes, ',')"/>
          </xsl:when>
          <xsl:otherwise>
            <xsl:value-of select="$codes"/>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:variable>
      <xsl:if test="not($first)">; </xsl:if>
      <xsl:call-template name="lookup">
        <xsl:with-param name="list" select="'sector'"/>
        <xsl:with-param name="code" select="$code"/>
        <xsl:with-param name="default" select="concat('Other (', $code, ')')"/>
      </xsl:call-template>
      <xsl:call-template name="sectors">
        <xsl:with-param name="codes" select="substring-after($codes, ',')"/>
        <xsl:with-param name="first" select="false()"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>
