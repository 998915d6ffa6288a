<?xml version="1.0" encoding="UTF-8"?>
<!--
  S3XML cap_alert records → an Atom 1.0 index of current alerts, the usual way CAP feeds are
  published: one entry per alert, linking to the alert's CAP document.

  Current means: not a template, not deleted, and not expired (some info block expires at or
  after utcnow, or says no expiry at all). Newest first.

  Parameters: base_url (e.g. https://gw.example/sluice; entry links are
  <base_url>/cap/alert/<id>.cap when the record carries Eden's url attribute, else
  <base_url>/cap/alert.cap?~.identifier=<identifier>), utcnow (S3 timestamp), feed_title.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns="http://www.w3.org/2005/Atom"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:feed="urn:x-sluice:cap-atom"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:param name="base_url" as="xs:string" select="''"/>
  <xsl:param name="utcnow" as="xs:string" select="''"/>
  <xsl:param name="feed_title" as="xs:string" select="'Current alerts'"/>

  <xsl:variable name="now" select="(s3:parse-datetime($utcnow), adjust-dateTime-to-timezone(current-dateTime(), xs:dayTimeDuration('PT0H')))[1]"/>
  <xsl:variable name="base" select="replace($base_url, '/+$', '')"/>

  <xsl:template match="/">
    <xsl:variable name="alerts" select="s3xml/resource[@name = 'cap_alert'][not(s3:is-deleted(.))]
        [not(s3:bool(., 'is_template'))][feed:is-current(.)]"/>
    <xsl:variable name="sorted" select="sort($alerts, (), function($a) { feed:sent($a) }) => reverse()"/>
    <feed>
      <id>
        <xsl:value-of select="if ($base != '') then $base || '/cap/alert.atom' else 'urn:x-sluice:cap-feed'"/>
      </id>
      <title>
        <xsl:value-of select="$feed_title"/>
      </title>
      <updated>
        <xsl:value-of select="(feed:sent($sorted[1]), feed:atom-time($now))[1]"/>
      </updated>
      <xsl:if test="$base != ''">
        <link rel="self" href="{$base}/cap/alert.atom"/>
      </xsl:if>
      <xsl:apply-templates select="$sorted"/>
    </feed>
  </xsl:template>

  <xsl:template match="resource">
    <xsl:variable name="identifier" select="(s3:value(., 'identifier'), string(@uuid))[1]"/>
    <xsl:variable name="info" select="s3:children(., ., 'cap_info', 'alert_id')[1]"/>
    <entry>
      <id>
        <xsl:value-of select="if (starts-with(string(@uuid), 'urn:')) then @uuid else 'urn:x-cap:' || encode-for-uri($identifier)"/>
      </id>
      <title>
        <xsl:value-of select="(s3:value($info, 'headline'), s3:value($info, 'event'), $identifier)[1]"/>
      </title>
      <updated>
        <xsl:value-of select="feed:sent(.)"/>
      </updated>
      <author>
        <name>
          <xsl:value-of select="(s3:value($info, 'sender_name'), s3:value(., 'sender'), 'Sluice')[1]"/>
        </name>
      </author>
      <link rel="alternate" type="application/cap+xml">
        <xsl:attribute name="href" select="if (@url) then replace(@url, '\.\w+$', '') || '.cap'
            else $base || '/cap/alert.cap?~.identifier=' || encode-for-uri($identifier)"/>
      </link>
      <xsl:for-each select="s3:value($info, 'description')">
        <summary>
          <xsl:value-of select="."/>
        </summary>
      </xsl:for-each>
    </entry>
  </xsl:template>

  <xsl:function name="feed:sent" as="xs:string?">
    <xsl:param name="alert" as="element()?"/>
    <xsl:sequence select="if (empty($alert)) then () else
        (s3:eden-timestamp(s3:value($alert, 'sent')), s3:eden-timestamp($alert/@modified_on), s3:eden-timestamp($alert/@created_on))[1] ! (. || 'Z')"/>
  </xsl:function>

  <xsl:function name="feed:atom-time" as="xs:string">
    <xsl:param name="time" as="xs:dateTime"/>
    <xsl:sequence select="format-dateTime($time, '[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]') || 'Z'"/>
  </xsl:function>

  <xsl:function name="feed:is-current" as="xs:boolean">
    <xsl:param name="alert" as="element()"/>
    <xsl:variable name="infos" select="s3:children($alert, $alert, 'cap_info', 'alert_id')"/>
    <xsl:sequence select="empty($infos) or (some $info in $infos satisfies
        (let $expires := s3:parse-datetime(s3:value($info, 'expires')) return empty($expires) or $expires ge $now))"/>
  </xsl:function>

</xsl:stylesheet>
