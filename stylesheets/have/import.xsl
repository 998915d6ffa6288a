<?xml version="1.0" encoding="UTF-8"?>
<!--
  EDXL-HAVE 1.0 → S3XML (med_hospital with med_hospital_status, med_bed_capacity,
  med_hospital_services, med_hospital_activity and org_site_tag gov_uuid components, and the
  hospital's gis_location).

  Input: a HospitalStatus, or any document holding them (the usual EDXL-DE envelope); every
  have:Hospital found is imported. Reads the HAVE 1.0 OS names (gml:pos, xpil:Address, Capacity,
  HospitalResourcesStatus); HAVE tokens become Eden's integer option codes (have-codes.xsl).

  Identity: xnl:OrganisationName/@xnl:ID (a government id) becomes the hospital's uuid and Eden's
  gov_uuid tag, and component uuids derive from it, so a repeated report updates the same records.
  Without it the hospital carries no uuid and the importer matches it by name.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns:have="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
    xmlns:xnl="urn:oasis:names:tc:ciq:xnl:3"
    xmlns:xal="urn:oasis:names:tc:ciq:xal:3"
    xmlns:xpil="urn:oasis:names:tc:ciq:xpil:3"
    xmlns:gml="http://www.opengis.net/gml"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:codes="urn:x-sluice:have-codes"
    xmlns:havei="urn:x-sluice:have-import"
    exclude-result-prefixes="#all">

  <xsl:include href="../s3json/s3-values.xsl"/>
  <xsl:include href="have-codes.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:template match="/">
    <s3xml>
      <xsl:apply-templates select="//have:Hospital" mode="have-import"/>
      <xsl:apply-templates select="//have:Hospital" mode="have-import-location"/>
    </s3xml>
  </xsl:template>

  <!-- ===================================================================== hospital -->
  <xsl:template match="have:Hospital" mode="have-import">
    <xsl:variable name="info" select="have:Organization/have:OrganizationInformation"/>
    <xsl:variable name="government-id" select="normalize-space($info/xnl:OrganisationName[1]/@xnl:ID)"/>
    <xsl:variable name="uuid" select="$government-id[. != '']"/>
    <xsl:variable name="facility" select="have:HospitalFacilityStatus"/>
    <xsl:variable name="resources" select="have:HospitalResourcesStatus"/>
    <xsl:variable name="modified" select="s3:eden-timestamp(have:LastUpdateTime)"/>
    <resource name="med_hospital">
      <xsl:if test="exists($uuid)">
        <xsl:attribute name="uuid" select="$uuid"/>
      </xsl:if>
      <xsl:if test="exists($modified)">
        <xsl:attribute name="modified_on" select="$modified"/>
      </xsl:if>
      <xsl:sequence select="s3:data-text('name', normalize-space(string-join($info/xnl:OrganisationName[1]/xnl:NameElement, ' ')))"/>
      <data field="facility_type" value="1">Hospital</data>
      <xsl:variable name="numbers" select="$info/xpil:ContactNumbers/xpil:ContactNumber"/>
      <xsl:sequence select="havei:phone('phone_exchange', $numbers[@xpil:CommunicationMediaType = 'Telephone'][@xpil:Usage = 'Exchange'])"/>
      <xsl:sequence select="havei:phone('phone_business', $numbers[@xpil:CommunicationMediaType = 'Telephone'][@xpil:Usage = 'Business'])"/>
      <xsl:sequence select="havei:phone('phone_emergency', $numbers[@xpil:CommunicationMediaType = 'Telephone'][@xpil:Usage = 'Emergency'])"/>
      <xsl:sequence select="havei:phone('fax', $numbers[@xpil:CommunicationMediaType = 'Fax'])"/>
      <xsl:variable name="electronic" select="$info/xpil:ElectronicAddressIdentifiers/xpil:ElectronicAddressIdentifier"/>
      <xsl:sequence select="s3:data-text('email', normalize-space($electronic[@xpil:Type = 'EMAIL'][1]))"/>
      <xsl:sequence select="s3:data-text('website', normalize-space($electronic[@xpil:Type = 'URL'][1]))"/>
      <xsl:sequence select="s3:data-text('town', normalize-space($info/xpil:Addresses/xpil:Address[1]/xal:Locality[1]/xal:NameElement[1]))"/>
      <xsl:for-each select="$resources/have:ResourcesInformationText">
        <xsl:analyze-string select="normalize-space(.)" regex="^(Doctors|Nurses|Non-medical staff): (\d+)$">
          <xsl:matching-substring>
            <xsl:variable name="field" select="map{'Doctors': 'doctors', 'Nurses': 'nurses', 'Non-medical staff': 'non_medical_staff'}(regex-group(1))"/>
            <data field="{$field}" value="{regex-group(2)}">
              <xsl:value-of select="regex-group(2)"/>
            </data>
          </xsl:matching-substring>
        </xsl:analyze-string>
      </xsl:for-each>
      <xsl:sequence select="s3:data-text('comments', string-join(have:Organization/have:CommentText, '&#10;'))"/>
      <xsl:if test="have:Organization/have:OrganizationGeoLocation/gml:Point/gml:pos">
        <reference field="location_id" resource="gis_location">
          <xsl:attribute name="{if (exists($uuid)) then 'uuid' else 'tuid'}" select="havei:location-id(.)"/>
        </reference>
      </xsl:if>

      <xsl:if test="exists($uuid)">
        <resource name="org_site_tag" alias="tag" uuid="{$uuid}:gov_uuid">
          <data field="tag">gov_uuid</data>
          <data field="value">
            <xsl:value-of select="$government-id"/>
          </data>
        </resource>
      </xsl:if>

      <xsl:variable name="status" as="element()*">
        <xsl:variable name="traffic" select="have:EmergencyDepartmentStatus/have:EMSTraffic"/>
        <xsl:sequence select="havei:coded('ems_status', $codes:ems-traffic, $traffic/have:EMSTrafficStatus)"/>
        <xsl:sequence select="s3:data-text('ems_reason', normalize-space($traffic/have:EMSTrafficReason))"/>
        <xsl:sequence select="havei:coded('facility_status', $codes:facility-status, $facility/have:FacilityStatus)"/>
        <xsl:sequence select="havei:coded('clinical_status', $codes:clinical-status, $facility/have:ClinicalStatus)"/>
        <xsl:sequence select="havei:coded('morgue_status', $codes:morgue-status, $facility/have:MorgueCapacity/have:MorgueCapacityStatus)"/>
        <xsl:sequence select="havei:integer('morgue_units', $facility/have:MorgueCapacity/have:MorgueCapacityUnits)"/>
        <xsl:sequence select="havei:coded('security_status', $codes:security-status, $facility/have:SecurityStatus)"/>
        <xsl:sequence select="havei:coded('staffing', $codes:resource-status, $resources/have:Staffing)"/>
        <xsl:sequence select="havei:coded('facility_operations', $codes:resource-status, $resources/have:FacilityOperations)"/>
        <xsl:sequence select="havei:coded('clinical_operations', $codes:resource-status, $resources/have:ClinicalOperations)"/>
      </xsl:variable>
      <xsl:if test="exists($status)">
        <resource name="med_hospital_status">
          <xsl:if test="exists($uuid)">
            <xsl:attribute name="uuid" select="$uuid || ':status'"/>
          </xsl:if>
          <xsl:sequence select="$status"/>
        </resource>
      </xsl:if>

      <xsl:for-each select="have:HospitalBedCapacityStatus/have:BedCapacity">
        <xsl:variable name="code" select="(codes:code-for($codes:bed-type, have:BedType[1]),
            if (matches(string(have:SubCategoryBedType[1]), '^\s*cholera\s*treatment\s*$', 'i')) then '15' else '99')[1]"/>
        <resource name="med_bed_capacity">
          <xsl:if test="exists($uuid)">
            <xsl:attribute name="uuid" select="$uuid || ':bed:' || $code"/>
          </xsl:if>
          <xsl:if test="exists($uuid)">
            <data field="unit_id">
              <xsl:value-of select="$government-id || '-' || $code"/>
            </data>
          </xsl:if>
          <data field="bed_type" value="{$code}">
            <xsl:value-of select="$codes:labels?bed_type($code)"/>
          </data>
          <xsl:sequence select="havei:count('beds_available', have:Capacity/have:AvailableCount)"/>
          <xsl:sequence select="havei:count('beds_baseline', have:Capacity/have:BaselineCount)"/>
          <xsl:sequence select="havei:count('beds_add24', have:Capacity/have:AdditionalCapacityCount24Hr)"/>
          <xsl:sequence select="s3:data-text('comments', string-join(have:CommentText, '&#10;'))"/>
        </resource>
      </xsl:for-each>

      <xsl:for-each select="have:ServiceCoverageStatus[1]">
        <resource name="med_hospital_services">
          <xsl:if test="exists($uuid)">
            <xsl:attribute name="uuid" select="$uuid || ':services'"/>
          </xsl:if>
          <xsl:sequence select="havei:flag('burn', have:Burn)"/>
          <xsl:sequence select="havei:flag('card', have:CardiologyIndicator/(have:Cardiology, have:CardiologySubType/*))"/>
          <xsl:sequence select="havei:flag('dial', have:Dialysis)"/>
          <xsl:sequence select="havei:flag('emsd', have:EmergencyDepartment)"/>
          <xsl:sequence select="havei:flag('infd', have:InfectiousDisease)"/>
          <xsl:sequence select="havei:flag('neon', have:Neonatology)"/>
          <xsl:sequence select="havei:flag('neur', have:NeurologyIndicator/(have:Neurology, have:NeurologySubType/*))"/>
          <xsl:sequence select="havei:flag('pedi', have:Pediatrics)"/>
          <xsl:sequence select="havei:flag('surg', have:SurgeryIndicator/(have:Surgery, have:SurgerySubType/*))"/>
          <xsl:sequence select="havei:flag('tran', have:TransportServicesIndicator/(have:TransportServices, have:TransportServicesSubType/have:AmbulanceServices))"/>
          <xsl:sequence select="havei:flag('tair', have:TransportServicesIndicator/(have:TransportServices, have:TransportServicesSubType/have:AirTransportServices))"/>
          <xsl:sequence select="havei:flag('trac', have:TraumaCenterServicesIndicator/have:TraumaCenterServices)"/>
          <xsl:sequence select="havei:flag('psya', have:PsychiatricIndicator/(have:Psychiatric, have:PsychiatricSubType/have:PsychiatricAdultGeneral))"/>
          <xsl:sequence select="havei:flag('psyp', have:PsychiatricIndicator/(have:Psychiatric, have:PsychiatricSubType/have:PsychiatricPediatric))"/>
          <xsl:sequence select="havei:flag('obgy', have:OBGYNIndicator/(have:OBGYN, have:OBGYNSubType/*))"/>
        </resource>
      </xsl:for-each>

      <xsl:for-each select="$facility/have:Activity24Hr[exists($modified)]">
        <resource name="med_hospital_activity">
          <xsl:if test="exists($uuid)">
            <xsl:attribute name="uuid" select="$uuid || ':activity:' || $modified"/>
          </xsl:if>
          <data field="date" value="{$modified}">
            <xsl:value-of select="$modified"/>
          </data>
          <xsl:sequence select="havei:integer('admissions24', have:Admissions)"/>
          <xsl:sequence select="havei:integer('discharges24', have:Discharges)"/>
          <xsl:sequence select="havei:integer('deaths24', have:Deaths)"/>
        </resource>
      </xsl:for-each>
    </resource>
  </xsl:template>

  <!-- A hospital's point becomes its own gis_location record, after all hospitals. -->
  <xsl:template match="have:Hospital" mode="have-import-location">
    <xsl:variable name="pos" select="tokenize(normalize-space(have:Organization/have:OrganizationGeoLocation/gml:Point/gml:pos[1]), ' ')"/>
    <xsl:variable name="info" select="have:Organization/have:OrganizationInformation"/>
    <xsl:variable name="address" select="$info/xpil:Addresses/xpil:Address[1]"/>
    <xsl:if test="count($pos) ge 2 and $pos[1] castable as xs:decimal and $pos[2] castable as xs:decimal">
      <resource name="gis_location">
        <xsl:attribute name="{if (normalize-space($info/xnl:OrganisationName[1]/@xnl:ID) != '') then 'uuid' else 'tuid'}"
            select="havei:location-id(.)"/>
        <xsl:sequence select="s3:data-text('name', normalize-space(string-join($info/xnl:OrganisationName[1]/xnl:NameElement, ' ')))"/>
        <data field="gis_feature_type" value="1">Point</data>
        <data field="lat" value="{xs:decimal($pos[1])}">
          <xsl:value-of select="xs:decimal($pos[1])"/>
        </data>
        <data field="lon" value="{xs:decimal($pos[2])}">
          <xsl:value-of select="xs:decimal($pos[2])"/>
        </data>
        <xsl:sequence select="s3:data-text('addr_street', normalize-space(string-join($address/xal:FreeTextAddress/xal:AddressLine, ', ')))"/>
        <xsl:sequence select="s3:data-text('addr_postcode', normalize-space($address/xal:PostCode[1]/xal:Identifier[1]))"/>
        <xsl:sequence select="s3:data-text('L0', normalize-space($address/xal:Country[1]/xal:NameElement[1]))"/>
        <xsl:sequence select="s3:data-text('L1', normalize-space($address/xal:AdministrativeArea[1]/xal:NameElement[1]))"/>
      </resource>
    </xsl:if>
  </xsl:template>

  <!-- ===================================================================== functions -->

  <!-- uuid `<gov id>:location` when the hospital has an id, else an in-document tuid. -->
  <xsl:function name="havei:location-id" as="xs:string">
    <xsl:param name="hospital" as="element()"/>
    <xsl:variable name="id" select="normalize-space($hospital/have:Organization/have:OrganizationInformation/xnl:OrganisationName[1]/@xnl:ID)"/>
    <xsl:sequence select="if ($id != '') then $id || ':location'
        else 'HAVE-LOCATION:' || (count($hospital/preceding::have:Hospital) + 1)"/>
  </xsl:function>

  <xsl:function name="havei:phone" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="numbers" as="element()*"/>
    <xsl:sequence select="s3:data-text($field, normalize-space(string-join($numbers[1]/xpil:ContactNumberElement, ' ')))"/>
  </xsl:function>

  <xsl:function name="havei:coded" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="table" as="map(xs:string, xs:string)"/>
    <xsl:param name="element" as="element()?"/>
    <xsl:variable name="token" select="normalize-space($element)"/>
    <xsl:variable name="code" select="codes:code-for($table, $token)"/>
    <xsl:choose>
      <xsl:when test="$token = ''"/>
      <xsl:when test="exists($code)">
        <data field="{$field}" value="{$code}">
          <xsl:value-of select="$codes:labels($field)($code)"/>
        </data>
      </xsl:when>
      <xsl:otherwise>
        <xsl:message select="'sluice:unmapped have ' || local-name($element) || ' ' || s3:json-string($token) || ' left out'"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <xsl:function name="havei:integer" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="element" as="element()?"/>
    <xsl:variable name="text" select="normalize-space($element)"/>
    <xsl:if test="$text castable as xs:integer">
      <data field="{$field}" value="{xs:integer($text)}">
        <xsl:value-of select="xs:integer($text)"/>
      </data>
    </xsl:if>
  </xsl:function>

  <!-- Several Capacity blocks of one bed type add up, as HAVE's documentation describes. -->
  <xsl:function name="havei:count" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="elements" as="element()*"/>
    <xsl:variable name="numbers" select="$elements[normalize-space() castable as xs:integer] ! xs:integer(normalize-space())"/>
    <xsl:if test="exists($numbers)">
      <data field="{$field}" value="{sum($numbers)}">
        <xsl:value-of select="sum($numbers)"/>
      </data>
    </xsl:if>
  </xsl:function>

  <!-- A service flag is set when any of its HAVE booleans says true, false when all say false. -->
  <xsl:function name="havei:flag" as="element()?">
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="elements" as="element()*"/>
    <xsl:variable name="values" select="$elements ! lower-case(normalize-space())[. = ('true', '1', 'false', '0')]"/>
    <xsl:if test="exists($values)">
      <xsl:variable name="on" select="$values = ('true', '1')"/>
      <data field="{$field}" value="{$on}">
        <xsl:value-of select="if ($on) then 'Yes' else 'No'"/>
      </data>
    </xsl:if>
  </xsl:function>

</xsl:stylesheet>
