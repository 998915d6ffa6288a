<?xml version="1.0" encoding="UTF-8"?>
<!--
  S3XML (med_hospital + med_hospital_status, med_bed_capacity, med_hospital_services,
  med_hospital_activity, org_site_tag, gis_location) → EDXL-HAVE 1.0 HospitalStatus.
  Eden 1.1's hms_* names are read as well.

  Written against the HAVE 1.0 OS schema (not the 2006 draft Eden's stylesheet targets):
  xpil:Address (not xal:Address), gml:pos "lat lon" (not gml:coordinates), NCName gml:id,
  Capacity/CapacityStatus "Vacant/Available", …Resources…, InfectiousDisease, every sequence in
  schema order, qualified CIQ attributes. Eden codes with no HAVE value are left out and reported
  with a `sluice:unmapped` message.

  Parameters: utcnow (S3 timestamp for LastUpdateTime when a record has no modified_on),
  envelope = 'de' to wrap the result in an EDXL-DE 1.0 distribution (HAVE has no routing header
  of its own), msguid / domain / distribution_status for that envelope.
-->
<xsl:stylesheet version="3.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:map="http://www.w3.org/2005/xpath-functions/map"
    xmlns="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
    xmlns:have="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0"
    xmlns:xnl="urn:oasis:names:tc:ciq:xnl:3"
    xmlns:xal="urn:oasis:names:tc:ciq:xal:3"
    xmlns:xpil="urn:oasis:names:tc:ciq:xpil:3"
    xmlns:gml="http://www.opengis.net/gml"
    xmlns:s3="urn:x-sluice:s3xml-functions"
    xmlns:env="urn:x-sluice:de-envelope"
    xmlns:codes="urn:x-sluice:have-codes"
    xmlns:havex="urn:x-sluice:have-export"
    exclude-result-prefixes="xs map s3 env codes havex have">

  <xsl:include href="../s3json/s3-values.xsl"/>
  <xsl:include href="../de/envelope.xsl"/>
  <xsl:include href="have-codes.xsl"/>

  <xsl:output method="xml" encoding="UTF-8" indent="yes"/>

  <xsl:param name="utcnow" as="xs:string" select="''"/>
  <xsl:param name="envelope" as="xs:string" select="''"/>
  <xsl:param name="msguid" as="xs:string" select="''"/>
  <xsl:param name="domain" as="xs:string" select="''"/>
  <xsl:param name="distribution_status" as="xs:string" select="'Actual'"/>

  <xsl:template match="/">
    <xsl:variable name="hospitals" select="s3xml/resource[@name = ('med_hospital', 'hms_hospital')][not(s3:is-deleted(.))]"/>
    <xsl:if test="empty($hospitals)">
      <xsl:sequence select="error(QName('urn:x-sluice:errors', 'HAVE_NO_HOSPITAL'),
          'EDXL-HAVE needs at least one hospital, and the export holds no med_hospital record')"/>
    </xsl:if>
    <xsl:variable name="status" as="element()">
      <HospitalStatus>
        <xsl:apply-templates select="$hospitals" mode="have-export"/>
      </HospitalStatus>
    </xsl:variable>
    <xsl:choose>
      <xsl:when test="lower-case($envelope) = 'de'">
        <xsl:sequence select="env:distribution($status, map{
            'distribution-id': $msguid,
            'sender-id': if ($domain != '') then 'sluice@' || $domain else (),
            'sent': $utcnow,
            'status': $distribution_status,
            'type': 'Report',
            'descriptions': 'Hospital status (EDXL-HAVE 1.0)'
          })"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:sequence select="$status"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ===================================================================== hospital -->
  <xsl:template match="resource" mode="have-export">
    <xsl:variable name="hospital" select="."/>
    <xsl:variable name="status" select="havex:component(., ('med_hospital_status', 'hms_status'))[1]"/>
    <xsl:variable name="services" select="havex:component(., ('med_hospital_services', 'hms_services'))[1]"/>
    <xsl:variable name="beds" select="havex:component(., ('med_bed_capacity', 'hms_bed_capacity'))"/>
    <!-- The latest 24-hour activity report is the one HAVE describes. -->
    <xsl:variable name="activity" select="sort(havex:component(., ('med_hospital_activity', 'hms_activity')), (),
        function($a) { string(s3:eden-timestamp(s3:value($a, 'date'))) })[last()]"/>
    <xsl:variable name="location-reference" select="reference[@field = 'location_id'][1]"/>
    <xsl:variable name="location" select="s3:referenced($location-reference)"/>
    <Hospital>
      <Organization>
        <OrganizationInformation>
          <xnl:OrganisationName>
            <xsl:for-each select="havex:government-id(.)">
              <xsl:attribute name="xnl:ID" select="."/>
            </xsl:for-each>
            <xnl:NameElement>
              <xsl:value-of select="(s3:value(., 'name'), 'Unnamed hospital')[1]"/>
            </xnl:NameElement>
          </xnl:OrganisationName>
          <xsl:call-template name="havex:address">
            <xsl:with-param name="hospital" select="."/>
            <xsl:with-param name="location" select="$location"/>
            <xsl:with-param name="reference" select="$location-reference"/>
          </xsl:call-template>
          <xsl:variable name="numbers" as="element()*">
            <xsl:sequence select="havex:contact-number(., 'phone_exchange', 'Telephone', 'Exchange')"/>
            <xsl:sequence select="havex:contact-number(., 'phone_business', 'Telephone', 'Business')"/>
            <xsl:sequence select="havex:contact-number(., 'phone_emergency', 'Telephone', 'Emergency')"/>
            <xsl:sequence select="havex:contact-number(., 'fax', 'Fax', ())"/>
          </xsl:variable>
          <xsl:if test="exists($numbers)">
            <xpil:ContactNumbers>
              <xsl:sequence select="$numbers"/>
            </xpil:ContactNumbers>
          </xsl:if>
          <xsl:variable name="electronic" as="element()*">
            <xsl:for-each select="s3:value(., 'email')">
              <xpil:ElectronicAddressIdentifier xpil:Type="EMAIL">
                <xsl:value-of select="."/>
              </xpil:ElectronicAddressIdentifier>
            </xsl:for-each>
            <xsl:for-each select="s3:value(., 'website')">
              <xpil:ElectronicAddressIdentifier xpil:Type="URL">
                <xsl:value-of select="."/>
              </xpil:ElectronicAddressIdentifier>
            </xsl:for-each>
          </xsl:variable>
          <xsl:if test="exists($electronic)">
            <xpil:ElectronicAddressIdentifiers>
              <xsl:sequence select="$electronic"/>
            </xpil:ElectronicAddressIdentifiers>
          </xsl:if>
        </OrganizationInformation>
        <xsl:variable name="lat" select="(s3:value($location, 'lat'), string($location-reference/@lat))[. castable as xs:decimal][1]"/>
        <xsl:variable name="lon" select="(s3:value($location, 'lon'), string($location-reference/@lon))[. castable as xs:decimal][1]"/>
        <xsl:if test="exists($lat) and exists($lon)">
          <OrganizationGeoLocation>
            <!-- gml:id is an xs:ID: an NCName, unique in the document even when hospitals share a place. -->
            <gml:Point gml:id="{s3:ncname('point', (string(@uuid)[. != ''], generate-id(.))[1])}">
              <gml:pos>
                <xsl:value-of select="xs:decimal($lat) || ' ' || xs:decimal($lon)"/>
              </gml:pos>
            </gml:Point>
          </OrganizationGeoLocation>
        </xsl:if>
        <xsl:sequence select="havex:optional('CommentText', s3:value(., 'comments'))"/>
      </Organization>

      <xsl:variable name="ems" select="havex:coded($status, 'ems_status', $codes:ems-traffic)"/>
      <xsl:variable name="ems-reason" select="s3:value($status, 'ems_reason')"/>
      <xsl:if test="exists($ems) or exists($ems-reason)">
        <EmergencyDepartmentStatus>
          <EMSTraffic>
            <xsl:sequence select="havex:optional('EMSTrafficStatus', $ems)"/>
            <xsl:sequence select="havex:optional('EMSTrafficReason', $ems-reason)"/>
          </EMSTraffic>
        </EmergencyDepartmentStatus>
      </xsl:if>

      <xsl:if test="exists($beds)">
        <HospitalBedCapacityStatus>
          <xsl:apply-templates select="$beds" mode="have-export-beds"/>
        </HospitalBedCapacityStatus>
      </xsl:if>

      <xsl:if test="exists($services)">
        <xsl:call-template name="havex:services">
          <xsl:with-param name="services" select="$services"/>
        </xsl:call-template>
      </xsl:if>

      <xsl:variable name="facility" as="element()*">
        <xsl:sequence select="havex:optional('ClinicalStatus', havex:coded($status, 'clinical_status', $codes:clinical-status))"/>
        <xsl:variable name="morgue" select="havex:coded($status, 'morgue_status', $codes:morgue-status)"/>
        <xsl:variable name="morgue-units" select="havex:integer($status, 'morgue_units')"/>
        <xsl:if test="exists($morgue) or exists($morgue-units)">
          <MorgueCapacity>
            <xsl:sequence select="havex:optional('MorgueCapacityStatus', $morgue)"/>
            <xsl:sequence select="havex:optional('MorgueCapacityUnits', $morgue-units)"/>
          </MorgueCapacity>
        </xsl:if>
        <xsl:sequence select="havex:optional('FacilityStatus', havex:coded($status, 'facility_status', $codes:facility-status))"/>
        <xsl:sequence select="havex:optional('SecurityStatus', havex:coded($status, 'security_status', $codes:security-status))"/>
        <xsl:if test="exists($activity)">
          <Activity24Hr>
            <xsl:sequence select="havex:optional('Admissions', havex:integer($activity, 'admissions24'))"/>
            <xsl:sequence select="havex:optional('Discharges', havex:integer($activity, 'discharges24'))"/>
            <xsl:sequence select="havex:optional('Deaths', havex:integer($activity, 'deaths24'))"/>
          </Activity24Hr>
        </xsl:if>
      </xsl:variable>
      <xsl:if test="exists($facility)">
        <HospitalFacilityStatus>
          <xsl:sequence select="$facility"/>
        </HospitalFacilityStatus>
      </xsl:if>

      <xsl:variable name="resources" as="element()*">
        <xsl:sequence select="havex:optional('Staffing', havex:coded($status, 'staffing', $codes:resource-status))"/>
        <xsl:sequence select="havex:optional('FacilityOperations', havex:coded($status, 'facility_operations', $codes:resource-status))"/>
        <xsl:sequence select="havex:optional('ClinicalOperations', havex:coded($status, 'clinical_operations', $codes:resource-status))"/>
        <xsl:sequence select="havex:optional('ResourcesInformationText', havex:integer(., 'doctors') ! ('Doctors: ' || .))"/>
        <xsl:sequence select="havex:optional('ResourcesInformationText', havex:integer(., 'nurses') ! ('Nurses: ' || .))"/>
        <xsl:sequence select="havex:optional('ResourcesInformationText', havex:integer(., 'non_medical_staff') ! ('Non-medical staff: ' || .))"/>
      </xsl:variable>
      <xsl:if test="exists($resources)">
        <HospitalResourcesStatus>
          <xsl:sequence select="$resources"/>
        </HospitalResourcesStatus>
      </xsl:if>

      <LastUpdateTime>
        <xsl:value-of select="(s3:offset-timestamp(@modified_on), s3:offset-timestamp($status/@modified_on),
            s3:offset-timestamp($utcnow), s3:offset-timestamp(string(current-dateTime())))[1]"/>
      </LastUpdateTime>
    </Hospital>
  </xsl:template>

  <!-- ===================================================================== beds -->
  <xsl:template match="resource" mode="have-export-beds">
    <xsl:variable name="code" select="s3:value(., 'bed_type')"/>
    <xsl:variable name="available" select="havex:integer(., 'beds_available')"/>
    <BedCapacity>
      <xsl:choose>
        <xsl:when test="exists($code) and map:contains($codes:bed-type, $code)">
          <BedType>
            <xsl:value-of select="$codes:bed-type($code)"/>
          </BedType>
        </xsl:when>
        <xsl:otherwise>
          <!-- HAVE's BedType list is closed: other kinds are named as a sub-category. -->
          <SubCategoryBedType>
            <xsl:value-of select="($codes:bed-subcategory(string($code)), 'Other')[1]"/>
          </SubCategoryBedType>
        </xsl:otherwise>
      </xsl:choose>
      <Capacity>
        <xsl:if test="exists($available)">
          <CapacityStatus>
            <xsl:value-of select="if (xs:integer($available) gt 0) then 'Vacant/Available' else 'NotAvailable'"/>
          </CapacityStatus>
        </xsl:if>
        <xsl:sequence select="havex:optional('AvailableCount', $available)"/>
        <xsl:sequence select="havex:optional('BaselineCount', havex:integer(., 'beds_baseline'))"/>
        <xsl:sequence select="havex:optional('AdditionalCapacityCount24Hr', havex:integer(., 'beds_add24'))"/>
      </Capacity>
      <xsl:sequence select="havex:optional('CommentText', s3:value(., 'comments'))"/>
    </BedCapacity>
  </xsl:template>

  <!-- ===================================================================== services -->
  <!-- Alphabetical, as the schema orders them; each *Indicator holds the flag or its subtypes. -->
  <xsl:template name="havex:services">
    <xsl:param name="services" as="element()"/>
    <xsl:variable name="flag" select="function($field) { s3:bool($services, $field) ! string(.) }"/>
    <ServiceCoverageStatus>
      <xsl:sequence select="havex:optional('Burn', $flag('burn'))"/>
      <xsl:if test="exists($flag('card'))">
        <CardiologyIndicator>
          <Cardiology><xsl:value-of select="$flag('card')"/></Cardiology>
        </CardiologyIndicator>
      </xsl:if>
      <xsl:sequence select="havex:optional('Dialysis', $flag('dial'))"/>
      <xsl:sequence select="havex:optional('EmergencyDepartment', $flag('emsd'))"/>
      <xsl:sequence select="havex:optional('InfectiousDisease', $flag('infd'))"/>
      <xsl:sequence select="havex:optional('Neonatology', $flag('neon'))"/>
      <xsl:if test="exists($flag('neur'))">
        <NeurologyIndicator>
          <Neurology><xsl:value-of select="$flag('neur')"/></Neurology>
        </NeurologyIndicator>
      </xsl:if>
      <xsl:if test="exists($flag('obgy'))">
        <OBGYNIndicator>
          <OBGYN><xsl:value-of select="$flag('obgy')"/></OBGYN>
        </OBGYNIndicator>
      </xsl:if>
      <xsl:sequence select="havex:optional('Pediatrics', $flag('pedi'))"/>
      <xsl:if test="exists(($flag('psya'), $flag('psyp')))">
        <PsychiatricIndicator>
          <PsychiatricSubType>
            <xsl:sequence select="havex:optional('PsychiatricAdultGeneral', $flag('psya'))"/>
            <xsl:sequence select="havex:optional('PsychiatricPediatric', $flag('psyp'))"/>
          </PsychiatricSubType>
        </PsychiatricIndicator>
      </xsl:if>
      <xsl:if test="exists($flag('surg'))">
        <SurgeryIndicator>
          <Surgery><xsl:value-of select="$flag('surg')"/></Surgery>
        </SurgeryIndicator>
      </xsl:if>
      <xsl:if test="exists(($flag('tran'), $flag('tair')))">
        <TransportServicesIndicator>
          <TransportServicesSubType>
            <xsl:sequence select="havex:optional('AmbulanceServices', $flag('tran'))"/>
            <xsl:sequence select="havex:optional('AirTransportServices', $flag('tair'))"/>
          </TransportServicesSubType>
        </TransportServicesIndicator>
      </xsl:if>
      <xsl:if test="exists($flag('trac'))">
        <TraumaCenterServicesIndicator>
          <TraumaCenterServices><xsl:value-of select="$flag('trac')"/></TraumaCenterServices>
        </TraumaCenterServicesIndicator>
      </xsl:if>
    </ServiceCoverageStatus>
  </xsl:template>

  <!-- ===================================================================== address -->
  <xsl:template name="havex:address">
    <xsl:param name="hospital" as="element()"/>
    <xsl:param name="location" as="element()?"/>
    <xsl:param name="reference" as="element()?"/>
    <xsl:variable name="street" select="(s3:value($location, 'addr_street'), string($reference/@address)[. != ''],
        s3:value($hospital, 'address'))[1]"/>
    <xsl:variable name="postcode" select="(s3:value($location, 'addr_postcode'), string($reference/@postcode)[. != ''],
        s3:value($hospital, 'postcode'))[1]"/>
    <xsl:variable name="country" select="s3:value($location, 'L0')"/>
    <xsl:variable name="region" select="s3:value($location, 'L1')"/>
    <xsl:variable name="town" select="(s3:value($hospital, 'town'), s3:value($hospital, 'city'), s3:value($location, 'L3'))[1]"/>
    <xsl:if test="exists(($street, $postcode, $country, $region, $town))">
      <xpil:Addresses>
        <xpil:Address>
          <xsl:for-each select="$street">
            <xal:FreeTextAddress>
              <xal:AddressLine><xsl:value-of select="."/></xal:AddressLine>
            </xal:FreeTextAddress>
          </xsl:for-each>
          <xsl:for-each select="$country">
            <xal:Country>
              <xal:NameElement><xsl:value-of select="."/></xal:NameElement>
            </xal:Country>
          </xsl:for-each>
          <xsl:for-each select="$region">
            <xal:AdministrativeArea>
              <xal:NameElement><xsl:value-of select="."/></xal:NameElement>
            </xal:AdministrativeArea>
          </xsl:for-each>
          <xsl:for-each select="$town">
            <xal:Locality xal:Type="Town">
              <xal:NameElement><xsl:value-of select="."/></xal:NameElement>
            </xal:Locality>
          </xsl:for-each>
          <xsl:for-each select="$postcode">
            <xal:PostCode>
              <xal:Identifier><xsl:value-of select="."/></xal:Identifier>
            </xal:PostCode>
          </xsl:for-each>
        </xpil:Address>
      </xpil:Addresses>
    </xsl:if>
  </xsl:template>

  <!-- ===================================================================== functions -->
  <xsl:function name="havex:component" as="element()*">
    <xsl:param name="hospital" as="element()"/>
    <xsl:param name="names" as="xs:string*"/>
    <xsl:sequence select="$hospital/resource[@name = $names][not(s3:is-deleted(.))]"/>
  </xsl:function>

  <!-- xnl:ID: the government id tag when there is one (Eden's gov_uuid), else the record uuid. -->
  <xsl:function name="havex:government-id" as="xs:string?">
    <xsl:param name="hospital" as="element()"/>
    <xsl:sequence select="(
        $hospital/resource[@name = 'org_site_tag'][s3:value(., 'tag') = 'gov_uuid'] ! s3:value(., 'value'),
        s3:value($hospital, 'gov_uuid'), string($hospital/@uuid)[. != ''])[1]"/>
  </xsl:function>

  <xsl:function name="havex:contact-number" as="element()?">
    <xsl:param name="hospital" as="element()"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="media" as="xs:string"/>
    <xsl:param name="usage" as="xs:string?"/>
    <xsl:for-each select="s3:value($hospital, $field)">
      <xpil:ContactNumber xpil:CommunicationMediaType="{$media}">
        <xsl:if test="exists($usage)">
          <xsl:attribute name="xpil:Usage" select="$usage"/>
        </xsl:if>
        <xpil:ContactNumberElement>
          <xsl:value-of select="."/>
        </xpil:ContactNumberElement>
      </xpil:ContactNumber>
    </xsl:for-each>
  </xsl:function>

  <!-- The HAVE token for an Eden option code; codes HAVE has no word for are reported and left out. -->
  <xsl:function name="havex:coded" as="xs:string?">
    <xsl:param name="resource" as="element()?"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="table" as="map(xs:string, xs:string)"/>
    <xsl:variable name="code" select="s3:value($resource, $field)"/>
    <xsl:choose>
      <xsl:when test="empty($code)"/>
      <xsl:when test="map:contains($table, $code)">
        <xsl:sequence select="$table($code)"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:message select="'sluice:unmapped have ' || $resource/@name || '.' || $field || ' ' || s3:json-string($code) || ' left out'"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <!-- HAVE counts are xs:integer (some are untyped in the schema, but receivers expect numbers). -->
  <xsl:function name="havex:integer" as="xs:string?">
    <xsl:param name="resource" as="element()?"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:sequence select="s3:value($resource, $field)[. castable as xs:decimal] ! string(xs:integer(xs:decimal(.)))"/>
  </xsl:function>

  <xsl:function name="havex:optional" as="element()?">
    <xsl:param name="name" as="xs:string"/>
    <xsl:param name="value" as="xs:string?"/>
    <xsl:if test="normalize-space($value) != ''">
      <xsl:element name="{$name}" namespace="urn:oasis:names:tc:emergency:EDXL:HAVE:1.0">
        <xsl:value-of select="$value"/>
      </xsl:element>
    </xsl:if>
  </xsl:function>

</xsl:stylesheet>
