<?xml version="1.0" encoding="UTF-8"?>
<!--
  Wraps payloads in an EDXL-DE 1.0 envelope. Input, one of:
  - one namespaced payload (a CAP alert, a HAVE HospitalStatus: run cap/export.xsl or
    have/export.xsl first; the format converter does that for cap_alert and med_hospital);
  - a no-namespace container whose namespaced children are the payloads (one contentObject each);
  - an S3XML document (any other table): DE's xmlContent takes only namespaced elements (its
    wildcard is ##other), so the untouched <s3xml> travels inside one namespaced element,
    <sx:s3xmlPayload xmlns:sx="urn:x-sluice:s3xml-payload" resources="…">, which de/import.xsl
    unwraps again. The envelope stays valid against the official DE schema.
  An input that already is a DE distribution passes through unchanged.

  Parameters (all optional; defaults come from the first CAP payload where there is one):
    distribution_id (else msguid), sender_id (else the CAP sender, else sluice@<domain>),
    utcnow (dateTimeSent), distribution_status, distribution_type, confidentiality, language,
    distribution_references (whitespace-separated "distributionID,senderID,dateTimeSent").
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:de="urn:oasis:names:tc:emergency:EDXL:DE:1.0"
    xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2"
    xmlns:have="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:env="urn:x-sluice:de-envelope"
    xmlns:sx="urn:x-sluice:s3xml-payload"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>
  <xsl:include href="envelope.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:param name="distribution_id" as="xs:string" select="''"/>
  <xsl:param name="msguid" as="xs:string" select="''"/>
  <xsl:param name="sender_id" as="xs:string" select="''"/>
  <xsl:param name="domain" as="xs:string" select="''"/>
  <xsl:param name="utcnow" as="xs:string" select="''"/>
  <xsl:param name="distribution_status" as="xs:string" select="''"/>
  <xsl:param name="distribution_type" as="xs:string" select="''"/>
  <xsl:param name="confidentiality" as="xs:string" select="''"/>
  <xsl:param name="language" as="xs:string" select="''"/>
  <xsl:param name="distribution_references" as="xs:string" select="''"/>

  <xsl:template match="/de:EDXLDistribution" priority="2">
    <xsl:copy-of select="."/>
  </xsl:template>

  <xsl:template match="/s3xml" priority="2">
    <xsl:variable name="tables" select="distinct-values(resource/@name)"/>
    <xsl:variable name="payload" as="element()">
      <sx:s3xmlPayload resources="{$tables}">
        <xsl:copy-of select="." copy-namespaces="no"/>
      </sx:s3xmlPayload>
    </xsl:variable>
    <xsl:sequence select="env:distribution($payload, map{
        'distribution-id': ($distribution_id, $msguid),
        'sender-id': ($sender_id, if ($domain != '') then 'sluice@' || $domain else ()),
        'sent': $utcnow,
        'status': $distribution_status,
        'type': $distribution_type,
        'confidentiality': $confidentiality,
        'language': $language,
        'references': tokenize($distribution_references),
        'descriptions': 'Sahana Eden S3XML: ' || count(resource) || ' record(s)'
            || (if (exists($tables)) then ' of ' || string-join($tables, ', ') else '')
      })"/>
  </xsl:template>

  <xsl:template match="/*">
    <xsl:variable name="payloads" select="if (namespace-uri(.) = '') then * else ."/>
    <xsl:if test="empty($payloads) or (some $p in $payloads satisfies namespace-uri($p) = '')">
      <xsl:sequence select="error(QName('urn:x-sluice:errors', 'DE_PAYLOAD_NOT_NAMESPACED'),
          'EDXL-DE carries namespaced XML (CAP, HAVE) or an S3XML document; &lt;'
          || name(($payloads[namespace-uri(.) = ''], .)[1]) || '&gt; is neither')"/>
    </xsl:if>
    <xsl:variable name="alert" select="$payloads[self::cap:alert][1]"/>
    <xsl:sequence select="env:distribution($payloads, map{
        'distribution-id': ($distribution_id, $msguid),
        'sender-id': ($sender_id, string($alert/cap:sender), if ($domain != '') then 'sluice@' || $domain else ()),
        'sent': ($utcnow[. != ''], string($alert/cap:sent))[1],
        'status': ($distribution_status[. != ''], env:status-for-cap(string($alert/cap:status)))[1],
        'type': ($distribution_type[. != ''], env:type-for-cap(string($alert/cap:msgType)))[1],
        'confidentiality': $confidentiality,
        'language': ($language, string($alert/cap:info[1]/cap:language)),
        'references': tokenize($distribution_references),
        'descriptions': for $p in $payloads return
            if ($p/self::cap:alert) then string($p/cap:info[1]/cap:headline)
            else if ($p/self::have:HospitalStatus) then 'Hospital status (EDXL-HAVE 1.0)'
            else ''
      })"/>
  </xsl:template>

</xsl:stylesheet>
