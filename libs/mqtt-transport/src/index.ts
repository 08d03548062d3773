/**
 * @packageDocumentation
 * `@rsp/mqtt-transport`: MQTT plumbing shared by the services and the simulator. For now the embedded
 * aedes broker; the NestJS transport strategy and ClientProxy on mqtt.js join it with the services.
 */
export * from './embedded-broker';
