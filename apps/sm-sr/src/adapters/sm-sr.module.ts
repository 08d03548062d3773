/** The Nest module of one SM-SR instance: HTTP controllers (ES1, ES4) and the ES3 MQTT controller. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { EisRegistry } from '../domain/model';
import type { SmSrService } from '../domain/sm-sr-service';
import { SMSR_HTTP_AUTH, SMSR_SERVICE, type SmSrHttpAuth } from './http/auth';
import { Es1HttpController, Es4HttpController } from './http/controllers';
import { FleetController, SMSR_FLEET } from './http/fleet.controller';
import { FleetView } from '../domain/fleet';
import { es3MqttController } from './mqtt/es3-controller';

@Module({})
export class SmSrModule {
  static register(options: { smsrId: string; service: SmSrService; auth: SmSrHttpAuth; registry: EisRegistry }): DynamicModule {
    return {
      module: SmSrModule,
      controllers: [Es1HttpController, Es4HttpController, FleetController, es3MqttController(options.smsrId)],
      providers: [
        { provide: SMSR_SERVICE, useValue: options.service },
        { provide: SMSR_HTTP_AUTH, useValue: options.auth },
        { provide: SMSR_FLEET, useValue: new FleetView(options.registry) },
      ],
    };
  }
}
