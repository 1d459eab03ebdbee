/**
 * AgentSandbox JavaScript SDK: ESM, no dependencies, Node 20+ and browsers.
 * @module agentsandbox
 */
export { AgentSandbox } from './client.js';
export { Agent } from './agent.js';
export { Exec } from './exec.js';
export { ExecSession } from './session.js';
export { Files } from './files.js';
export { AgentSandboxError } from './errors.js';
