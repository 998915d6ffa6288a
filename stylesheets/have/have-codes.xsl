<?xml version="1.0" encoding="UTF-8"?>
<!--
  The closed EDXL-HAVE 1.0 enumerations and the integer option codes Eden stores for them
  (modules/s3db/hms.py, med_* in master), in one place so import and export cannot drift apart.
  Eden codes with no HAVE value (clinical "Closed", morgue "Closed", security "Closed", facility
  "No Response", bed types "Cholera Treatment" and "Other") map to nothing and are handled where
  they occur.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:codes="urn:x-sluice:have-codes"
    exclude-result-prefixes="#all">

  <xsl:variable name="codes:ems-traffic" as="map(xs:string, xs:string)"
      select="map{'1': 'Normal', '2': 'Advisory', '3': 'Closed', '4': 'NotApplicable'}"/>
  <xsl:variable name="codes:facility-status" as="map(xs:string, xs:string)"
      select="map{'1': 'Normal', '2': 'Compromised', '3': 'Evacuating', '4': 'Closed'}"/>
  <xsl:variable name="codes:clinical-status" as="map(xs:string, xs:string)"
      select="map{'1': 'Normal', '2': 'Full'}"/>
  <xsl:variable name="codes:morgue-status" as="map(xs:string, xs:string)"
      select="map{'1': 'Open', '2': 'Full', '3': 'Exceeded'}"/>
  <xsl:variable name="codes:security-status" as="map(xs:string, xs:string)"
      select="map{'1': 'Normal', '2': 'Elevated', '3': 'RestrictedAccess', '4': 'Lockdown', '5': 'Quarantine'}"/>
  <xsl:variable name="codes:resource-status" as="map(xs:string, xs:string)"
      select="map{'1': 'Adequate', '2': 'Insufficient'}"/>
  <xsl:variable name="codes:bed-type" as="map(xs:string, xs:string)"
      select="map{'1': 'AdultICU', '2': 'PediatricICU', '3': 'NeonatalICU', '4': 'EmergencyDepartment',
                  '5': 'NurseryBeds', '6': 'MedicalSurgical', '7': 'RehabLongTermCare', '8': 'Burn',
                  '9': 'Pediatrics', '10': 'AdultPsychiatric', '11': 'PediatricPsychiatric',
                  '12': 'NegativeFlowIsolation', '13': 'OtherIsolation', '14': 'OperatingRooms'}"/>
  <!-- Bed types HAVE lacks travel as SubCategoryBedType with these names. -->
  <xsl:variable name="codes:bed-subcategory" as="map(xs:string, xs:string)"
      select="map{'15': 'Cholera Treatment', '99': 'Other'}"/>

  <!-- Eden labels for the codes, written as the data element text on import. -->
  <xsl:variable name="codes:labels" as="map(xs:string, map(xs:string, xs:string))" select="map{
      'ems_status': map{'1': 'Normal', '2': 'Advisory', '3': 'Closed', '4': 'Not Applicable'},
      'facility_status': map{'1': 'Normal', '2': 'Compromised', '3': 'Evacuating', '4': 'Closed'},
      'clinical_status': map{'1': 'Normal', '2': 'Full'},
      'morgue_status': map{'1': 'Open', '2': 'Full', '3': 'Exceeded'},
      'security_status': map{'1': 'Normal', '2': 'Elevated', '3': 'Restricted Access', '4': 'Lockdown', '5': 'Quarantine'},
      'staffing': map{'1': 'Adequate', '2': 'Insufficient'},
      'facility_operations': map{'1': 'Adequate', '2': 'Insufficient'},
      'clinical_operations': map{'1': 'Adequate', '2': 'Insufficient'},
      'bed_type': map{'1': 'Adult ICU', '2': 'Pediatric ICU', '3': 'Neonatal ICU', '4': 'Emergency Department',
                      '5': 'Nursery Beds', '6': 'General Medical/Surgical', '7': 'Rehabilitation/Long Term Care',
                      '8': 'Burn ICU', '9': 'Pediatrics', '10': 'Adult Psychiatric', '11': 'Pediatric Psychiatric',
                      '12': 'Negative Flow Isolation', '13': 'Other Isolation', '14': 'Operating Rooms',
                      '15': 'Cholera Treatment', '99': 'Other'}
    }"/>

  <!-- The Eden code for a HAVE token (case-insensitive), or () when the token is not in the list. -->
  <xsl:function name="codes:code-for" as="xs:string?">
    <xsl:param name="table" as="map(xs:string, xs:string)"/>
    <xsl:param name="token" as="xs:string?"/>
    <xsl:variable name="wanted" select="lower-case(normalize-space($token))"/>
    <xsl:sequence select="(map:keys($table)[lower-case($table(.)) = $wanted])[1]"/>
  </xsl:function>

</xsl:stylesheet>
