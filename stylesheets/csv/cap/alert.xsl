<?xml version="1.0" encoding="UTF-8"?>
<!--
  CSV/XLSX columns → cap_alert headers (Eden s3csv convention, stylesheets/csv/columns.xsl).

  Columns: Identifier, Sender, Sent, Status, Message Type, Source, Scope, Restriction,
  Addresses and Incidents (CAP syntax: space-separated, multi-word items in double quotes),
  Codes (comma-separated), Note, Reference (CAP "sender,identifier,sent" triplets), Event Type
  (event_event_type lookup), UUID. Info blocks and areas are separate sheets in Eden.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:csv="urn:x-sluice:csv-columns"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>
  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="type-headers" select="('Event Type', 'Event')"/>

  <xsl:template match="/">
    <xsl:variable name="rows" select="table/row[exists(csv:cell(., 'Identifier'))]"/>
    <s3xml>
      <xsl:apply-templates select="$rows"/>
      <xsl:sequence select="csv:lookups($rows, $type-headers, 'event_event_type', 'EVENTTYPE')"/>
    </s3xml>
  </xsl:template>

  <xsl:template match="row">
    <resource name="cap_alert">
      <xsl:sequence select="csv:uuid(.)"/>
      <xsl:sequence select="csv:text('identifier', csv:cell(., 'Identifier'))"/>
      <xsl:sequence select="csv:text('sender', csv:cell(., 'Sender'))"/>
      <xsl:sequence select="csv:datetime('sent', csv:cell(., ('Sent', 'Date')))"/>
      <xsl:sequence select="csv:token('status', csv:cell(., 'Status'))"/>
      <xsl:sequence select="csv:token('msg_type', csv:cell(., ('Message Type', 'Msg Type', 'msgType')))"/>
      <xsl:sequence select="csv:text('source', csv:cell(., 'Source'))"/>
      <xsl:sequence select="csv:token('scope', csv:cell(., 'Scope'))"/>
      <xsl:sequence select="csv:text('restriction', csv:cell(., 'Restriction'))"/>
      <xsl:sequence select="csv:list('addresses', s3:split-quoted(csv:cell(., ('Addresses', 'Recipients'))))"/>
      <xsl:sequence select="csv:list('codes', tokenize(string(csv:cell(., 'Codes')), ',') ! normalize-space()[. != ''])"/>
      <xsl:sequence select="csv:text('note', csv:cell(., 'Note'))"/>
      <xsl:sequence select="csv:text('reference', csv:cell(., ('Reference', 'References')) ! normalize-space())"/>
      <xsl:sequence select="csv:list('incidents', s3:split-quoted(csv:cell(., 'Incidents')))"/>
      <xsl:sequence select="csv:lookup-reference('event_type_id', 'event_event_type', 'EVENTTYPE', csv:cell(., $type-headers))"/>
    </resource>
  </xsl:template>

  <xsl:function name="csv:token" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:sequence select="$value ! s3:data-value($field, s3:json-string(normalize-space(.)), normalize-space(.))"/>
  </xsl:function>

  <xsl:function name="csv:list" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="items" as="xs:string*"/>
    <xsl:sequence select="if (empty($items)) then () else s3:data-value($field, s3:json-list($items), string-join($items, ', '))"/>
  </xsl:function>

</xsl:stylesheet>
