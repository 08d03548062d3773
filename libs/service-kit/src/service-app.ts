/**
 * The one way every service starts its Nest application (issue 10 items 5 and 8): one hybrid app per
 * service — HTTP, and the MQTT service requests as a connected microservice — built from the service's
 * module, with its OpenAPI document at /docs and /docs-json, listening on its configured port.
 */
import type { AddressInfo } from 'node:net';
import type { DynamicModule, ExceptionFilter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomStrategy } from '@nestjs/microservices';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { StartupScope } from './lifecycle';
import type { ServiceLogging } from './logging';

export interface ServiceAppOptions {
  /** The service's logging (serviceLogging): Nest's own logger, and the HTTP request logger when pino is in use. */
  logging: ServiceLogging;
  /** JSON body limit (Express `limit`); undefined keeps Nest's default parser. */
  jsonBodyLimit?: string;
  filters: ExceptionFilter[];
  /** The service's OpenAPI document, built once the app exists (controllers scanned). */
  openApi: (app: NestExpressApplication) => OpenAPIObject;
  /** The MQTT request server (RspMqttServer), when the service answers service requests (ES3, callbacks); built from the app's providers. */
  mqttServer?: (app: NestExpressApplication) => CustomStrategy['strategy'];
  port: number;
  host: string;
}

export interface ServiceApp {
  app: NestExpressApplication;
  httpUrl: string;
}

/**
 * Creates, configures and starts the application. A failure while Nest builds the providers releases
 * what the factories opened (the startup scope); a failure after that closes the application, whose
 * shutdown hooks release everything.
 */
export async function startServiceApp(module: DynamicModule, scope: StartupScope, options: ServiceAppOptions): Promise<ServiceApp> {
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(module, {
      logger: options.logging.nest,
      abortOnError: false, // throw to the caller instead of aborting the process
      ...(options.jsonBodyLimit ? { bodyParser: false } : {}),
    });
  } catch (error) {
    await scope.abort();
    throw error;
  }
  scope.commit();
  try {
    if (options.logging.httpMiddleware) app.use(options.logging.httpMiddleware);
    if (options.jsonBodyLimit) app.useBodyParser('json', { limit: options.jsonBodyLimit });
    app.useGlobalFilters(...options.filters);
    SwaggerModule.setup('docs', app, options.openApi(app), { jsonDocumentUrl: 'docs-json' });
    if (options.mqttServer) {
      // inheritAppConfig: the global filters also answer the service requests' failures. A controller that
      // needs another answer carries its own @UseFilters: a connected microservice is initialised at once,
      // so global filters registered on it afterwards would never reach its handlers.
      app.connectMicroservice({ strategy: options.mqttServer(app) }, { inheritAppConfig: true });
      await app.startAllMicroservices();
    }
    await app.listen(options.port, options.host);
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { app, httpUrl: `http://${host}:${address.port}` };
}
