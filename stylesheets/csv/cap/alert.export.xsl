<?xml version="1.0" encoding="UTF-8"?>
<!-- cap_alert headers → CSV/XLSX columns; the same headers alert.xsl reads. -->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <table name="cap_alert">
      <xsl:apply-templates select="s3xml/resource[@name = 'cap_alert'][not(s3:is-deleted(.))]"/>
    </table>
  </xsl:template>

  <xsl:template match="resource">
    <row>
      <xsl:sequence select="csv:col('Identifier', s3:value(., 'identifier'))"/>
      <xsl:sequence select="csv:col('Sender', s3:value(., 'sender'))"/>
      <xsl:sequence select="csv:col('Sent', s3:eden-timestamp(s3:value(., 'sent')))"/>
      <xsl:sequence select="csv:col('Status', s3:value(., 'status'))"/>
      <xsl:sequence select="csv:col('Message Type', s3:value(., 'msg_type'))"/>
      <xsl:sequence select="csv:col('Source', s3:value(., 'source'))"/>
      <xsl:sequence select="csv:col('Scope', s3:value(., 'scope'))"/>
      <xsl:sequence select="csv:col('Restriction', s3:value(., 'restriction'))"/>
      <xsl:sequence select="csv:col('Addresses', s3:join-quoted(s3:list(., 'addresses'))[. != ''])"/>
      <xsl:sequence select="csv:col('Codes', string-join(s3:list(., 'codes'), ',')[. != ''])"/>
      <xsl:sequence select="csv:col('Note', s3:value(., 'note'))"/>
      <xsl:sequence select="csv:col('Reference', s3:value(., 'reference'))"/>
      <xsl:sequence select="csv:col('Incidents', s3:join-quoted(s3:list(., 'incidents'))[. != ''])"/>
      <xsl:sequence select="csv:col('Event Type', csv:referenced-name(., 'event_type_id'))"/>
      <xsl:sequence select="csv:col('UUID', @uuid)"/>
    </row>
  </xsl:template>

</xsl:stylesheet>
