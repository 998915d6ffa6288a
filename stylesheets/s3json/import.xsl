<?xml version="1.0" encoding="UTF-8"?>
<!--
  S3JSON import: the JSON ↔ S3XML conversion is the S3JSON codec's job (src/s3xml/s3json.ts, the
  `s3json-decode` step); by the time XSLT runs the document already is S3XML, so this copies it.
  It exists so that S3JSON is an ordinary format with a stylesheet a deployment may replace.
-->
<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" encoding="UTF-8"/>
  <xsl:mode on-no-match="shallow-copy"/>
</xsl:stylesheet>
