<?xml version="1.0" encoding="UTF-8"?>
<!-- Eden's option labels for med_hospital columns (modules/s3db hospital model), import and export. -->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    exclude-result-prefixes="#all">

  <xsl:include href="../columns.xsl"/>

  <xsl:variable name="facility-types" as="map(xs:string, xs:string)" select="map{
      '1': 'Hospital', '2': 'Field Hospital', '3': 'Specialized Hospital', '11': 'Health center',
      '12': 'Health center with beds', '13': 'Health center without beds', '21': 'Dispensary',
      '31': 'Long-term care', '98': 'Other', '99': 'Unknown'}"/>
  <xsl:variable name="facility-statuses" as="map(xs:string, xs:string)" select="map{
      '1': 'Normal', '2': 'Compromised', '3': 'Evacuating', '4': 'Closed', '99': 'No Response'}"/>

</xsl:stylesheet>
