import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** One problem with a request, pointing at the offending field with a JSON Pointer (`/body/items/2/hsCode`). */
export interface ErrorItem {
  code: string
  message: string
  pointer: string
}

/**
 * The only error type domain code throws. `code` is a stable SCREAMING_SNAKE identifier clients may branch
 * on; `pointer` locates the field at fault. Several problems at once go in `errors`.
 */
export class KouanError extends Error {
  readonly pointer: string
  readonly details: unknown
  readonly errors: ErrorItem[]
  /** Response headers that go with the error (`Retry-After`, `WWW-Authenticate`). */
  readonly headers: Record<string, string>
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    opts: { pointer?: string; details?: unknown; errors?: ErrorItem[]; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.pointer = opts.pointer ?? opts.errors?.[0]?.pointer ?? ''
    this.details = opts.details
    this.errors = opts.errors ?? [{ code, message, pointer: this.pointer }]
    this.headers = opts.headers ?? {}
  }
}

export const validationFailed = (errors: ErrorItem[]) =>
  new KouanError(errors[0]?.code ?? 'VALIDATION_FAILED', 422, errors[0]?.message ?? 'invalid', { errors })
export const notFound = (code: string, what: string, pointer = '') =>
  new KouanError(code, 404, `${what} not found`, { pointer })
export const unauthorized = (code: string, message: string, pointer = '') =>
  new KouanError(code, 401, message, { pointer })
export const forbidden = (message = 'not allowed for this account') => new KouanError('FORBIDDEN', 403, message)
export const conflict = (code: string, message: string, pointer = '') => new KouanError(code, 409, message, { pointer })
/** 429 with `Retry-After` in whole seconds (at least 1). */
export const rateLimited = (message: string, retryAfterMs: number, pointer = '') =>
  new KouanError('RATE_LIMITED', 429, message, {
    pointer,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  })
/** 400 for text holding NUL or an unpaired surrogate (see shared/text.ts). */
export const invalidText = (pointer: string, what: string) =>
  new KouanError('INVALID_TEXT', 400, `text with ${what} cannot be accepted`, { pointer })

/** Shape of every non-2xx body; also the OpenAPI schema of error responses. */
export interface ErrorBody {
  statusCode: number
  code: string
  message: string
  pointer: string
  errors: ErrorItem[]
  requestId: string
}

function pointerOf(context: string | undefined, v: { instancePath: string; params?: Record<string, unknown> }): string {
  const base = `/${context ?? 'body'}${v.instancePath}`
  const extra = v.params?.missingProperty ?? v.params?.additionalProperty
  return typeof extra === 'string' ? `${base}/${extra}` : base
}

const FASTIFY_CODES: Record<string, { code: string; pointer: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'MALFORMED_JSON', pointer: '/body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'MALFORMED_JSON', pointer: '/body' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', pointer: '/body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', pointer: '/headers/content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_CONTENT_LENGTH', pointer: '/headers/content-length' },
  FST_ERR_BAD_URL: { code: 'BAD_URL', pointer: '/url' },
}

/** Maps any thrown error to the common {@link ErrorBody}; 5xx bodies say only INTERNAL. */
export function toErrorBody(error: FastifyError | KouanError | Error, requestId: string): ErrorBody {
  if (error instanceof KouanError) {
    return {
      statusCode: error.statusCode,
      code: error.code,
      message: error.message,
      pointer: error.pointer,
      errors: error.errors,
      requestId,
    }
  }
  const fe = error as FastifyError
  if (fe.validation) {
    const errors = fe.validation.map((v) => ({
      code: 'VALIDATION_FAILED',
      message: v.message ?? 'invalid value',
      pointer: pointerOf(fe.validationContext, v as { instancePath: string; params?: Record<string, unknown> }),
    }))
    const first = errors[0]!
    return {
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: first.message,
      pointer: first.pointer,
      errors,
      requestId,
    }
  }
  const status = fe.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const known = (fe.code && FASTIFY_CODES[fe.code]) || { code: 'BAD_REQUEST', pointer: '' }
    // A JSON syntax error from the parser carries no Fastify code, only statusCode 400.
    const mapped = error instanceof SyntaxError ? FASTIFY_CODES.FST_ERR_CTP_INVALID_JSON_BODY! : known
    const errors = [{ code: mapped.code, message: fe.message, pointer: mapped.pointer }]
    return { statusCode: status, code: mapped.code, message: fe.message, pointer: mapped.pointer, errors, requestId }
  }
  return {
    statusCode: 500,
    code: 'INTERNAL',
    message: 'internal error',
    pointer: '',
    errors: [{ code: 'INTERNAL', message: 'internal error', pointer: '' }],
    requestId,
  }
}

/** Installs the one error handler and the 404 handler. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const body = toErrorBody(error, request.id)
    if (error instanceof KouanError) reply.headers(error.headers)
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: body.code, pointer: body.pointer }, body.message)
    return reply.status(body.statusCode).send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    const body = toErrorBody(
      new KouanError('ROUTE_NOT_FOUND', 404, `no route ${request.method} ${request.url}`, { pointer: '/url' }),
      request.id,
    )
    return reply.status(404).send(body)
  })
}
