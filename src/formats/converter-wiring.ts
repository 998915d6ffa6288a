/**
 * Puts the format converter together from the transform engine, the XSD validator and the S3JSON
 * codec. Called by the composition root and by tools that convert without a server.
 */
import path from 'node:path';
import { parseS3JSON, stringifyS3JSON } from '../s3xml/s3json.js';
import { parseS3XML } from '../s3xml/parse.js';
import { serializeS3XML } from '../s3xml/serialize.js';
import type { TransformEngine } from '../transform/engine.js';
import { createFormatConverter, type FormatConverter } from './convert.js';
import { createFormatSteps } from './steps.js';
import { createXsdValidator, type XsdValidator } from './xsd.js';

export function createConverterFor(engine: TransformEngine, options: { stylesheetsDir: string; standardsDir: string; validator?: XsdValidator }): FormatConverter {
  const validator = options.validator ?? createXsdValidator({ standardsDir: options.standardsDir });
  const steps = createFormatSteps({
    s3json: {
      jsonToXml: (json) => serializeS3XML(parseS3JSON(json)),
      xmlToJson: async (xml) => stringifyS3JSON(await parseS3XML(xml)),
    },
  });
  return createFormatConverter({
    validator,
    steps,
    runner: {
      async transform(request) {
        const stylesheet =
          'path' in request.stylesheet
            ? { path: path.isAbsolute(request.stylesheet.path) ? request.stylesheet.path : path.join(options.stylesheetsDir, request.stylesheet.path) }
            : { text: request.stylesheet.text };
        const result = await engine.transform({ stylesheet, input: request.input, params: request.params });
        return { output: result.output, messages: result.messages };
      },
    },
  });
}
