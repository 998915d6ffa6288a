/**
 * Compiles a mapping document (mapping-document.ts) into an XSLT 3.0 stylesheet that rewrites
 * S3XML: renames tables and fields, replaces values through the value maps, and applies the
 * unmapped-value policy of each field. One stylesheet serves both directions; the `direction`
 * parameter ('inbound' = peer → Sluice, 'outbound' = Sluice → peer) picks the templates.
 *
 * The output is a pure function of the document's content: same JSON → same bytes (value-map
 * entries are sorted, nothing depends on time or environment). Golden tests pin it.
 *
 * Every unmapped value seen is reported with one xsl:message in a parseable form,
 *   sluice:mapping {"direction":…,"resource":…,"field":…,"value":…,"action":…,"record":…}
 * which parseMappingMessages() turns into counts.
 */
import type { DirectionMapping, FieldMapping, MappingDocument, ResourceMapping, UnmappedPolicy } from './mapping-document.js';

export const MAPPING_MESSAGE_PREFIX = 'sluice:mapping ';

type Direction = 'inbound' | 'outbound';
const DIRECTIONS: readonly Direction[] = ['inbound', 'outbound'];

export function generateMappingXslt(document: MappingDocument): string {
  const tables: string[] = [];
  const templates: string[] = [];
  for (const direction of DIRECTIONS) {
    for (const resource of document.resources) {
      templates.push(...resourceTemplates(document, resource, direction, tables));
    }
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!-- Generated from mappings/${document.instance}.json by \`sluice mapping compile ${document.instance}\`.`,
    '     Do not edit: change the JSON and compile again. -->',
    '<xsl:stylesheet version="3.0"',
    '    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"',
    '    xmlns:xs="http://www.w3.org/2001/XMLSchema"',
    '    xmlns:map="http://www.w3.org/2005/xpath-functions/map"',
    '    xmlns:array="http://www.w3.org/2005/xpath-functions/array"',
    '    xmlns:m="urn:x-sluice:mapping"',
    '    exclude-result-prefixes="#all">',
    '',
    '  <xsl:output method="xml" encoding="UTF-8"/>',
    '',
    `  <xsl:param name="direction" as="xs:string" select="'inbound'"/>`,
    `  <xsl:variable name="m:instance" as="xs:string" select="${attribute(xpathString(document.instance))}"/>`,
    '',
    ...tables,
    ...(tables.length > 0 ? [''] : []),
    ...templates,
    PRELUDE,
    '</xsl:stylesheet>',
    '',
  ].join('\n');
}

function resourceTemplates(document: MappingDocument, resource: ResourceMapping, direction: Direction, tables: string[]): string[] {
  const local = resource.local;
  const remote = resource.remote ?? resource.local;
  const [source, target] = direction === 'inbound' ? [remote, local] : [local, remote];
  const out: string[] = [];
  const rejecting: { sourceField: string; localField: string; table: string }[] = [];
  const fieldTemplates: string[] = [];

  for (const field of resource.fields ?? []) {
    const fieldLocal = field.local;
    const fieldRemote = field.remote ?? field.local;
    const [sourceField, targetField] = direction === 'inbound' ? [fieldRemote, fieldLocal] : [fieldLocal, fieldRemote];
    const spec: DirectionMapping | undefined = field[direction];
    const values = spec?.values;
    const policy: UnmappedPolicy = spec?.unmapped ?? document.unmapped ?? { policy: 'pass' };
    let tableName = '()';
    if (values && Object.keys(values).length > 0) {
      tableName = `$m:${direction}-${tables.length + 1}`;
      tables.push(tableVariable(tableName.slice(1), values));
      if (policy.policy === 'reject') rejecting.push({ sourceField, localField: fieldLocal, table: tableName });
    }
    if (sourceField === targetField && tableName === '()') continue;
    const dataMatch = `resource[@name = ${xpathString(source)}]/data[@field = ${xpathString(sourceField)}]`;
    const report = `map{'direction': '${direction}', 'resource': ${xpathString(local)}, 'field': ${xpathString(fieldLocal)}}`;
    fieldTemplates.push(
      `  <xsl:template match="${attribute(dataMatch)}" mode="${direction}">`,
      `    <xsl:sequence select="${attribute(
        `m:rewrite(., ${xpathString(targetField)}, ${tableName}, '${policy.policy}', ${policy.default === undefined ? '()' : xpathString(policy.default)}, ${report})`,
      )}"/>`,
      '  </xsl:template>',
    );
    if (sourceField !== targetField) {
      const referenceMatch = `resource[@name = ${xpathString(source)}]/reference[@field = ${xpathString(sourceField)}]`;
      fieldTemplates.push(
        `  <xsl:template match="${attribute(referenceMatch)}" mode="${direction}">`,
        '    <xsl:copy>',
        `      <xsl:attribute name="field" select="${attribute(xpathString(targetField))}"/>`,
        `      <xsl:apply-templates select="@* except @field, node()" mode="${direction}"/>`,
        '    </xsl:copy>',
        '  </xsl:template>',
      );
    }
  }

  if (source !== target || rejecting.length > 0) {
    out.push(`  <!-- ${direction}: ${source}${source !== target ? ` → ${target}` : ''} -->`);
    out.push(`  <xsl:template match="${attribute(`resource[@name = ${xpathString(source)}]`)}" mode="${direction}">`);
    const copy = [
      '<xsl:copy>',
      `  <xsl:attribute name="name" select="${attribute(xpathString(target))}"/>`,
      `  <xsl:apply-templates select="@* except @name, node()" mode="${direction}"/>`,
      '</xsl:copy>',
    ];
    if (rejecting.length > 0) {
      const checks = rejecting
        .map(({ sourceField, localField, table }) => `${xpathString(localField)}: m:unmapped(data[@field = ${xpathString(sourceField)}], ${table})`)
        .join(', ');
      out.push(
        `    <xsl:variable name="unmapped" as="map(xs:string, xs:string*)" select="${attribute(`map{${checks}}`)}"/>`,
        '    <xsl:choose>',
        '      <xsl:when test="exists($unmapped?*)">',
        `        <xsl:sequence select="${attribute(`m:reject(., $unmapped, map{'direction': '${direction}', 'resource': ${xpathString(local)}})`)}"/>`,
        '      </xsl:when>',
        '      <xsl:otherwise>',
        ...copy.map((line) => `        ${line}`),
        '      </xsl:otherwise>',
        '    </xsl:choose>',
      );
    } else {
      out.push(...copy.map((line) => `    ${line}`));
    }
    out.push('  </xsl:template>');
    if (source !== target) {
      out.push(
        `  <xsl:template match="${attribute(`reference/@resource[. = ${xpathString(source)}]`)}" mode="${direction}">`,
        `    <xsl:attribute name="resource" select="${attribute(xpathString(target))}"/>`,
        '  </xsl:template>',
      );
    }
  }
  if (fieldTemplates.length > 0) {
    out.push(`  <!-- ${direction}: fields of ${source} -->`, ...fieldTemplates);
  }
  return out;
}

function tableVariable(name: string, values: Record<string, string>): string {
  // Sorted by code point so that the same document always gives the same bytes.
  const keys = Object.keys(values).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const seen = new Set<string>();
  const entries: string[] = [];
  for (const key of keys) {
    // Values are compared after normalize-space(), so keys are stored that way; the document
    // validation refuses keys that collide once normalised.
    const normalised = normalizeSpace(key);
    if (seen.has(normalised)) continue;
    seen.add(normalised);
    entries.push(`      ${xpathString(normalised)}: ${xpathString(values[key] as string)}`);
  }
  return [
    `  <xsl:variable name="${name}" as="map(xs:string, xs:string)" select="`,
    `    map{`,
    attribute(entries.join(',\n')),
    '    }"/>',
  ].join('\n');
}

/** XPath's normalize-space(): XML whitespace collapsed, ends trimmed. */
export function normalizeSpace(value: string): string {
  return value.replace(/[ \t\r\n]+/g, ' ').trim();
}

/** An XPath string literal. */
function xpathString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Text safe inside a double-quoted XML attribute; newlines kept as references so values survive. */
function attribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/'([^']|'')*'/g, (literal) => literal.replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;'));
}

/** The fixed part: dispatch by direction, and the functions the templates call. */
const PRELUDE = `
  <xsl:mode name="inbound" on-no-match="shallow-copy"/>
  <xsl:mode name="outbound" on-no-match="shallow-copy"/>

  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="$direction = 'inbound'">
        <xsl:apply-templates select="node()" mode="inbound"/>
      </xsl:when>
      <xsl:when test="$direction = 'outbound'">
        <xsl:apply-templates select="node()" mode="outbound"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:sequence select="error(QName('urn:x-sluice:errors', 'MAPPING_DIRECTION'),
            'The mapping direction must be inbound or outbound, not ' || $direction)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- The machine values of a data element: decoded JSON @value (lists give several), else the text. -->
  <xsl:function name="m:values" as="xs:string*">
    <xsl:param name="data" as="element()"/>
    <xsl:variable name="json" select="m:json($data)"/>
    <xsl:sequence select="(if ($data/@value)
        then (if (exists($json)) then m:atoms($json) else string($data/@value))
        else string($data))[normalize-space(.) != '']"/>
  </xsl:function>

  <xsl:function name="m:json" as="item()?">
    <xsl:param name="data" as="element()"/>
    <xsl:if test="$data/@value">
      <xsl:try select="parse-json(string($data/@value))">
        <xsl:catch select="()"/>
      </xsl:try>
    </xsl:if>
  </xsl:function>

  <xsl:function name="m:atoms" as="xs:string*">
    <xsl:param name="json" as="item()?"/>
    <xsl:sequence select="if ($json instance of array(*)) then array:flatten($json) ! m:atoms(.)
        else if ($json instance of map(*)) then serialize($json, map{'method': 'json'})
        else if ($json instance of xs:double) then string(xs:decimal($json))
        else if (exists($json)) then string($json) else ()"/>
  </xsl:function>

  <!-- Values of $data that $table does not know. -->
  <xsl:function name="m:unmapped" as="xs:string*">
    <xsl:param name="data" as="element()*"/>
    <xsl:param name="table" as="map(xs:string, xs:string)"/>
    <xsl:sequence select="for $d in $data, $v in m:values($d) return $v[not(map:contains($table, normalize-space(.)))]"/>
  </xsl:function>

  <!-- Renames the field and maps its values; an unmapped value follows the policy and is reported. -->
  <xsl:function name="m:rewrite" as="element()?">
    <xsl:param name="data" as="element()"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="table" as="map(xs:string, xs:string)?"/>
    <xsl:param name="policy" as="xs:string"/>
    <xsl:param name="default" as="xs:string?"/>
    <xsl:param name="report" as="map(xs:string, xs:string)"/>
    <xsl:variable name="values" select="m:values($data)"/>
    <xsl:choose>
      <xsl:when test="empty($table) or empty($values)">
        <xsl:copy select="$data">
          <xsl:attribute name="field" select="$field"/>
          <xsl:copy-of select="@* except @field, node()"/>
        </xsl:copy>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="mapped" as="xs:string*">
          <xsl:for-each select="$values">
            <xsl:variable name="key" select="normalize-space(.)"/>
            <xsl:choose>
              <xsl:when test="map:contains($table, $key)">
                <xsl:sequence select="$table($key)"/>
              </xsl:when>
              <xsl:otherwise>
                <xsl:message select="m:report($report, ., $data/../(@uuid, @tuid)[1], m:action($policy))"/>
                <xsl:sequence select="if ($policy = 'pass') then . else if ($policy = 'default') then $default else ()"/>
              </xsl:otherwise>
            </xsl:choose>
          </xsl:for-each>
        </xsl:variable>
        <xsl:sequence select="m:encode($data, $field, $mapped)"/>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:function>

  <xsl:function name="m:action" as="xs:string">
    <xsl:param name="policy" as="xs:string"/>
    <xsl:sequence select="map{'pass': 'passed', 'default': 'defaulted', 'drop': 'dropped', 'reject': 'rejected'}($policy)"/>
  </xsl:function>

  <!-- Writes values back the way they came: a JSON list, a JSON scalar in @value, or text. -->
  <xsl:function name="m:encode" as="element()?">
    <xsl:param name="data" as="element()"/>
    <xsl:param name="field" as="xs:string"/>
    <xsl:param name="values" as="xs:string*"/>
    <xsl:variable name="json" select="m:json($data)"/>
    <xsl:if test="exists($values)">
      <xsl:copy select="$data">
        <xsl:copy-of select="@* except (@field, @value)"/>
        <xsl:attribute name="field" select="$field"/>
        <xsl:choose>
          <xsl:when test="$json instance of array(*)">
            <xsl:attribute name="value" select="'[' || string-join($values ! m:json-string(.), ',') || ']'"/>
          </xsl:when>
          <xsl:when test="$json instance of xs:double and $values[1] castable as xs:double">
            <xsl:attribute name="value" select="$values[1]"/>
          </xsl:when>
          <xsl:when test="$json instance of xs:boolean and $values[1] = ('true', 'false')">
            <xsl:attribute name="value" select="$values[1]"/>
          </xsl:when>
          <xsl:when test="$data/@value">
            <xsl:attribute name="value" select="m:json-string($values[1])"/>
          </xsl:when>
        </xsl:choose>
        <xsl:value-of select="string-join($values, ', ')"/>
      </xsl:copy>
    </xsl:if>
  </xsl:function>

  <!-- A record with a value its reject policy does not allow is left out, and each value reported. -->
  <xsl:function name="m:reject" as="empty-sequence()">
    <xsl:param name="resource" as="element()"/>
    <xsl:param name="unmapped" as="map(xs:string, xs:string*)"/>
    <xsl:param name="report" as="map(xs:string, xs:string)"/>
    <xsl:for-each select="sort(map:keys($unmapped))">
      <xsl:variable name="field" select="."/>
      <xsl:for-each select="$unmapped($field)">
        <xsl:message select="m:report(map:put($report, 'field', $field), ., $resource/(@uuid, @tuid)[1], 'rejected')"/>
      </xsl:for-each>
    </xsl:for-each>
  </xsl:function>

  <xsl:function name="m:report" as="xs:string">
    <xsl:param name="report" as="map(xs:string, xs:string)"/>
    <xsl:param name="value" as="xs:string"/>
    <xsl:param name="record" as="xs:string?"/>
    <xsl:param name="action" as="xs:string"/>
    <xsl:sequence select="'${MAPPING_MESSAGE_PREFIX}{' || string-join((
        '&quot;instance&quot;:' || m:json-string($m:instance),
        '&quot;direction&quot;:' || m:json-string($report?direction),
        '&quot;resource&quot;:' || m:json-string($report?resource),
        '&quot;field&quot;:' || m:json-string($report?field),
        '&quot;value&quot;:' || m:json-string($value),
        '&quot;action&quot;:' || m:json-string($action),
        if (exists($record)) then '&quot;record&quot;:' || m:json-string($record) else ()), ',') || '}'"/>
  </xsl:function>

  <xsl:function name="m:json-string" as="xs:string">
    <xsl:param name="text" as="xs:string?"/>
    <xsl:variable name="escaped" as="xs:string*">
      <xsl:analyze-string select="string($text)" regex="[&quot;\\\\\\p{{Cc}}]">
        <xsl:matching-substring>
          <xsl:sequence select="if (. = '&quot;') then '\\&quot;' else if (. = '\\') then '\\\\'
              else if (. = '&#10;') then '\\n' else if (. = '&#13;') then '\\r' else if (. = '&#9;') then '\\t'
              else '\\u' || m:hex4(string-to-codepoints(.))"/>
        </xsl:matching-substring>
        <xsl:non-matching-substring>
          <xsl:sequence select="."/>
        </xsl:non-matching-substring>
      </xsl:analyze-string>
    </xsl:variable>
    <xsl:sequence select="'&quot;' || string-join($escaped) || '&quot;'"/>
  </xsl:function>

  <xsl:function name="m:hex4" as="xs:string">
    <xsl:param name="code" as="xs:integer"/>
    <xsl:sequence select="string-join(for $shift in (4096, 256, 16, 1)
        return substring('0123456789abcdef', (($code idiv $shift) mod 16) + 1, 1))"/>
  </xsl:function>
`;

/** One unmapped value seen in a run. */
export interface UnmappedValue {
  instance: string;
  direction: Direction;
  resource: string;
  field: string;
  value: string;
  action: 'passed' | 'defaulted' | 'dropped' | 'rejected';
  record?: string;
}

export interface MappingRunReport {
  /** Every unmapped value, in the order seen. */
  unmapped: UnmappedValue[];
  /** The same, counted per resource.field, value and action. */
  counts: { resource: string; field: string; value: string; action: UnmappedValue['action']; count: number }[];
  /** Records left out by a reject policy (by uuid or tuid). */
  rejectedRecords: string[];
  /** Messages that were not mapping reports (other stylesheets' warnings), passed through. */
  otherMessages: string[];
}

/** Reads the `sluice:mapping {…}` messages of a mapping run into a report. */
export function parseMappingMessages(messages: readonly string[]): MappingRunReport {
  const unmapped: UnmappedValue[] = [];
  const otherMessages: string[] = [];
  for (const message of messages) {
    if (!message.startsWith(MAPPING_MESSAGE_PREFIX)) {
      otherMessages.push(message);
      continue;
    }
    try {
      unmapped.push(JSON.parse(message.slice(MAPPING_MESSAGE_PREFIX.length)) as UnmappedValue);
    } catch {
      otherMessages.push(message);
    }
  }
  const counts = new Map<string, MappingRunReport['counts'][number]>();
  for (const seen of unmapped) {
    const key = JSON.stringify([seen.resource, seen.field, seen.value, seen.action]);
    const entry = counts.get(key);
    if (entry) entry.count += 1;
    else counts.set(key, { resource: seen.resource, field: seen.field, value: seen.value, action: seen.action, count: 1 });
  }
  const rejectedRecords = [...new Set(unmapped.filter((u) => u.action === 'rejected' && u.record !== undefined).map((u) => u.record as string))];
  return { unmapped, counts: [...counts.values()], rejectedRecords, otherMessages };
}

export type { FieldMapping };
