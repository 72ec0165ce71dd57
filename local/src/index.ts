export { type ChildExit, type LogSink, NodeChild, type NodeChildSpec } from './child-process';
export { type LocalObjectStore } from './object-store';
export { type MeshOptions } from './mesh';
export { ServiceProcess, type ServiceSpec } from './service-process';
export {
  type Endpoint,
  type Stack,
  type StackOptions,
  type StackPorts,
  startStack,
  type ThumbnailsPath,
} from './stack';
export { type TraceThread } from './traces';
