/**
 * Admin API routes are declared with their JSON Schemas: the same schema validates the body (ajv)
 * and describes the route in the OpenAPI document served at /api/openapi.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Authenticator, Role } from '../../auth/users.js';
import { repoRoot } from '../../config.js';
import { SluiceError } from '../../errors.js';
import { requireUser } from '../basic-auth.js';

// ajv-formats is CommonJS with a default export; under NodeNext its type is the module namespace.
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv }).default ?? addFormatsModule;

export type JsonSchema = Record<string, unknown>;

export interface ApiRouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path, e.g. `/api/repositories/:uuid`. */
  path: string;
  summary: string;
  /** Roles allowed (admin always is); empty = any signed-in user. */
  roles: Role[];
  body?: JsonSchema;
  query?: JsonSchema;
  response?: JsonSchema;
  tag?: string;
}

export type ApiHandler = (req: Request, res: Response) => Promise<void> | void;

export interface ApiDocumentInfo {
  title: string;
  version: string;
}

export const OPENAPI_PATH = '/api/openapi.json';

let packageVersion: string | undefined;

function sluiceVersion(): string {
  packageVersion ??= (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return packageVersion;
}

export class ApiRegistry {
  readonly ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: false, strict: false });
  private readonly specs: ApiRouteSpec[] = [];
  private readonly router = express.Router();

  constructor(
    private readonly authenticator: Authenticator,
    options: { info?: ApiDocumentInfo } = {},
  ) {
    addFormats(this.ajv);
    this.router.use('/api', express.json({ limit: '2mb' }));
    // Public on purpose: it describes request shapes and required roles, never data, and every
    // INVALID_BODY answer points here, including to scripts that have not got credentials right yet.
    this.router.get(OPENAPI_PATH, (_req: Request, res: Response) => {
      res.json(this.openApi(options.info ?? { title: 'Sluice admin API', version: sluiceVersion() }));
    });
  }

  route(spec: ApiRouteSpec, handler: ApiHandler): void {
    this.specs.push(spec);
    const validators: ((req: Request) => void)[] = [];
    if (spec.body) validators.push(bodyValidator(this.ajv.compile(spec.body)));
    if (spec.query) validators.push(queryValidator(this.ajv.compile(spec.query)));
    this.router[spec.method](
      spec.path,
      requireUser(this.authenticator, ...spec.roles),
      (req: Request, _res: Response, next: NextFunction) => {
        for (const validate of validators) validate(req);
        next();
      },
      async (req: Request, res: Response) => {
        await handler(req, res);
      },
    );
  }

  /**
   * Lists a route that is served by its own router (the transform preview keeps its own body
   * limit and status rules) so that the OpenAPI document still describes it.
   */
  document(spec: ApiRouteSpec): void {
    this.specs.push(spec);
  }

  routes(): Router {
    return this.router;
  }

  openApi(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const spec of this.specs) {
      const openApiPath = spec.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...spec.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      (paths[openApiPath] ??= {})[spec.method] = {
        summary: spec.summary,
        tags: spec.tag ? [spec.tag] : undefined,
        parameters: params.length ? params : undefined,
        requestBody: spec.body ? { required: true, content: { 'application/json': { schema: spec.body } } } : undefined,
        responses: {
          200: { description: 'OK', content: spec.response ? { 'application/json': { schema: spec.response } } : undefined },
          400: { description: 'Invalid request (code, message, fix)' },
          401: { description: 'No credentials (AUTH_REQUIRED) or refused credentials (AUTH_FAILED)' },
          403: { description: `Needs role: ${spec.roles.join(', ') || 'any user'}` },
        },
      };
    }
    paths[OPENAPI_PATH] = {
      get: { summary: 'This document (no sign-in needed)', security: [], responses: { 200: { description: 'OpenAPI 3.1 document' } } },
    };
    return {
      openapi: '3.1.0',
      info,
      // Console sessions (cookie) work too; scripts use Basic with the Sluice user's email and password.
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } },
      security: [{ basic: [] }],
      paths,
    };
  }
}

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

function bodyValidator(validate: ValidateFunction) {
  return (req: Request) => {
    if (!validate(req.body ?? {})) {
      throw new SluiceError('INVALID_BODY', `request body is invalid: ${describeErrors(validate)}`, {
        status: 400,
        details: { errors: validate.errors },
        fix: `See ${OPENAPI_PATH} for the expected body`,
      });
    }
  };
}

function queryValidator(validate: ValidateFunction) {
  return (req: Request) => {
    const query = { ...(req.query as Record<string, unknown>) };
    if (!validate(query)) {
      throw new SluiceError('INVALID_QUERY', `query is invalid: ${describeErrors(validate)}`, { status: 400 });
    }
  };
}
