<?xml version="1.0" encoding="UTF-8"?>
<!--
  EDXL-DE 1.0 → S3XML: unwraps each contentObject/xmlContent/embeddedXMLContent payload and runs
  it through its own format's import (CAP alerts through cap/import.xsl, HAVE HospitalStatus
  through have/import.xsl, S3XML that de/export.xsl wrapped in sx:s3xmlPayload as it is).
  Payloads of other kinds, and nonXMLContent, are reported with a `sluice:warning` message and
  skipped.

  Validate the envelope first (src/formats/xsd.ts, schema `de`): DE's wildcards are lax, so only
  the driver schema that loads DE, CAP and HAVE together notices a broken payload.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:de="urn:oasis:names:tc:emergency:EDXL:DE:1.0"
    xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2"
    xmlns:have="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
    xmlns:sx="urn:x-sluice:s3xml-payload"
    exclude-result-prefixes="#all">

  <xsl:import href="../cap/import.xsl"/>
  <xsl:import href="../have/import.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:template match="/">
    <xsl:if test="not(de:EDXLDistribution)">
      <xsl:sequence select="error(QName('urn:x-sluice:errors', 'DE_NOT_A_DISTRIBUTION'),
          'Expected an EDXL-DE 1.0 EDXLDistribution, found &lt;' || name(*) || '&gt;')"/>
    </xsl:if>
    <xsl:variable name="content" select="de:EDXLDistribution/de:contentObject"/>
    <xsl:variable name="payloads" select="$content/de:xmlContent/de:embeddedXMLContent/*"/>
    <xsl:for-each select="$payloads[not(self::cap:alert or self::have:HospitalStatus or self::sx:s3xmlPayload)]">
      <xsl:message select="'sluice:warning de payload {' || namespace-uri(.) || '}' || local-name(.) || ' has no import and was skipped'"/>
    </xsl:for-each>
    <xsl:for-each select="$content[de:nonXMLContent]">
      <xsl:message select="'sluice:warning de nonXMLContent (' || normalize-space(de:nonXMLContent/de:mimeType) || ') was skipped'"/>
    </xsl:for-each>
    <s3xml>
      <xsl:apply-templates select="$payloads/self::cap:alert" mode="cap-import"/>
      <xsl:apply-templates select="$payloads/self::have:HospitalStatus/have:Hospital" mode="have-import"/>
      <xsl:apply-templates select="$payloads/self::cap:alert" mode="cap-import-locations"/>
      <xsl:apply-templates select="$payloads/self::have:HospitalStatus/have:Hospital" mode="have-import-location"/>
      <xsl:copy-of select="$payloads/self::sx:s3xmlPayload/s3xml/resource" copy-namespaces="no"/>
    </s3xml>
  </xsl:template>

</xsl:stylesheet>
