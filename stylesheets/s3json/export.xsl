<?xml version="1.0" encoding="UTF-8"?>
<!--
  S3JSON export: copies S3XML unchanged; the `s3json-encode` step (src/s3xml/s3json.ts) writes
  the JSON, as Eden's own s3json stylesheets leave the JSON to Python.
-->
<xsl:stylesheet version="3.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" encoding="UTF-8"/>
  <xsl:mode on-no-match="shallow-copy"/>
</xsl:stylesheet>
