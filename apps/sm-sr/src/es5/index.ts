/** ES5 from the SM-SR to the cards: the transport-free interface, the SCP03 session and its carriers. */
export type { Es5Channel, Es5RunOptions } from './es5-channel';
export { Es5Error } from './errors';
export { Es5Session, ES5_SECURITY_LEVEL } from './es5-session';
export { ScriptEs5Channel, type IsdRKeyProvider, type ScriptCarrier, type ScriptEs5ChannelOptions } from './script-es5-channel';
export { MqttEs5Channel, MqttScriptCarrier, type MqttEs5Options, type NotificationHandler } from './mqtt-es5-channel';
export { establishIsdRKeySet, finaliseIsdRHandover, buildDeleteIsdRKeySets } from './isd-r-key-establishment';
