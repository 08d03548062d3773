/** The bit of Express's response the controllers use (no @types/express in this repo). */
export interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): unknown;
}
