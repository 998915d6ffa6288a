<?xml version="1.0" encoding="UTF-8"?>
<!--
  The EDXL-DE 1.0 envelope, shared by de/export.xsl (wrap any CAP/HAVE document) and cap/export.xsl
  (several alerts in one response). Element order and the required combinedConfidentiality follow
  EDXL-DE_Schema_v1.0.xsd; each payload gets its own contentObject/xmlContent/embeddedXMLContent.

  Settings (a map, every key optional):
    distribution-id, sender-id, sent (any ISO date-time), status (Actual|Exercise|System|Test),
    type (Report|Update|Cancel|Request|Response|Dispatch|Ack|Error|…), confidentiality, language,
    references (distributionReference strings), descriptions (one per payload).
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:de="urn:oasis:names:tc:emergency:EDXL:DE:1.0"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:env="urn:x-sluice:de-envelope"
    exclude-result-prefixes="#all">

  <xsl:variable name="env:statuses" select="('Actual', 'Exercise', 'System', 'Test')"/>
  <xsl:variable name="env:types" select="('Report', 'Update', 'Cancel', 'Request', 'Response', 'Dispatch',
      'Ack', 'Error', 'SensorConfiguration', 'SensorControl', 'SensorStatus', 'SensorDetection')"/>

  <xsl:function name="env:distribution" as="element(de:EDXLDistribution)">
    <xsl:param name="payloads" as="element()*"/>
    <xsl:param name="settings" as="map(*)"/>
    <xsl:variable name="sent" select="(s3:offset-timestamp($settings?sent), s3:offset-timestamp(string(current-dateTime())))[1]"/>
    <de:EDXLDistribution>
      <de:distributionID>
        <xsl:value-of select="(env:setting($settings, 'distribution-id'), 'sluice-' || replace(substring($sent, 1, 19), '[^0-9]', ''))[1]"/>
      </de:distributionID>
      <de:senderID>
        <xsl:value-of select="(env:setting($settings, 'sender-id'), 'sluice@localhost')[1]"/>
      </de:senderID>
      <de:dateTimeSent>
        <xsl:value-of select="$sent"/>
      </de:dateTimeSent>
      <de:distributionStatus>
        <xsl:value-of select="env:pick(env:setting($settings, 'status'), $env:statuses, 'Actual')"/>
      </de:distributionStatus>
      <de:distributionType>
        <xsl:value-of select="env:pick(env:setting($settings, 'type'), $env:types, 'Report')"/>
      </de:distributionType>
      <de:combinedConfidentiality>
        <xsl:value-of select="(env:setting($settings, 'confidentiality'), 'UNCLASSIFIED AND NOT SENSITIVE')[1]"/>
      </de:combinedConfidentiality>
      <xsl:for-each select="env:setting($settings, 'language')">
        <de:language>
          <xsl:value-of select="."/>
        </de:language>
      </xsl:for-each>
      <xsl:for-each select="$settings?references[normalize-space() != '']">
        <de:distributionReference>
          <xsl:value-of select="normalize-space(.)"/>
        </de:distributionReference>
      </xsl:for-each>
      <xsl:for-each select="$payloads">
        <xsl:variable name="position" select="position()"/>
        <de:contentObject>
          <xsl:for-each select="$settings?descriptions[$position][normalize-space() != '']">
            <de:contentDescription>
              <xsl:value-of select="."/>
            </de:contentDescription>
          </xsl:for-each>
          <de:xmlContent>
            <de:embeddedXMLContent>
              <xsl:copy-of select="."/>
            </de:embeddedXMLContent>
          </de:xmlContent>
        </de:contentObject>
      </xsl:for-each>
    </de:EDXLDistribution>
  </xsl:function>

  <xsl:function name="env:setting" as="xs:string?">
    <xsl:param name="settings" as="map(*)"/>
    <xsl:param name="key" as="xs:string"/>
    <xsl:sequence select="(for $v in $settings($key) return normalize-space(string($v)))[. != ''][1]"/>
  </xsl:function>

  <!-- A value from a closed list, matched case-insensitively; $default when absent or unknown. -->
  <xsl:function name="env:pick" as="xs:string">
    <xsl:param name="value" as="xs:string?"/>
    <xsl:param name="allowed" as="xs:string*"/>
    <xsl:param name="default" as="xs:string"/>
    <xsl:sequence select="($allowed[lower-case(.) = lower-case(normalize-space($value))], $default)[1]"/>
  </xsl:function>

  <!-- CAP status/msgType to the DE envelope's distributionStatus/distributionType. -->
  <xsl:function name="env:status-for-cap" as="xs:string">
    <xsl:param name="cap-status" as="xs:string?"/>
    <!-- DE has no Draft: a draft alert is not real traffic, so it travels as Test. -->
    <xsl:sequence select="if ($cap-status = 'Draft') then 'Test' else env:pick($cap-status, $env:statuses, 'Actual')"/>
  </xsl:function>

  <xsl:function name="env:type-for-cap" as="xs:string">
    <xsl:param name="msg-type" as="xs:string?"/>
    <xsl:sequence select="if ($msg-type = 'Alert') then 'Report' else env:pick($msg-type, $env:types, 'Report')"/>
  </xsl:function>

</xsl:stylesheet>
