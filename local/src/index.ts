export { type ChildExit, type LogSink, NodeChild, type NodeChildSpec } from './child-process';
export { type LocalObjectStore } from './object-store';
export { CANARY_STAGES, DEFAULT_MESH, type MeshOptions, parseReplicas } from './mesh';
export { freePort, httpUrl } from './ports';
export { ServiceProcess, type ServiceSpec } from './service-process';
export {
  type Endpoint,
  type Stack,
  type StackOptions,
  type StackPorts,
  startStack,
  THUMBNAILS_PATHS,
  type ThumbnailsPath,
} from './stack';
export { startTraceServer, startTraceThread, type TraceServer, type TraceThread } from './traces';
