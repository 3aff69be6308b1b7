/** What an instance with gRPC pools owns: the run directory, the tokens and the host server. */
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../../config/index.js';
import type { Logger } from '../../logger.js';
import { createRunDir, removeRunDir } from '../../process/run-dir.js';
import type { PoolContext } from '../../pool/pool-options.js';
import { HostServer, NO_HOST_TOOLS, type HostToolHandler } from './host-server.js';

export class GrpcHostResources {
  private constructor(
    readonly runDir: string,
    readonly server: HostServer,
    readonly poolContext: NonNullable<PoolContext['grpc']>,
  ) {}

  /** Creates the run directory (0700), two fresh tokens, and starts the host server. */
  static async create(options: { runId: string; config: ResolvedConfig; logger: Logger; tools?: HostToolHandler }): Promise<GrpcHostResources> {
    const runDir = createRunDir(options.runId);
    const hostToken = randomBytes(32).toString('hex');
    try {
      const server = await HostServer.start({
        runDir,
        tcp: options.config.grpcPort === undefined ? undefined : { host: options.config.grpcHost, port: options.config.grpcPort },
        token: hostToken,
        tools: options.tools ?? NO_HOST_TOOLS,
        logger: options.logger,
      });
      return new GrpcHostResources(runDir, server, {
        socketDir: runDir,
        workerToken: randomBytes(32).toString('hex'),
        hostAddress: server.address,
        hostToken,
      });
    } catch (error) {
      removeRunDir(runDir);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    removeRunDir(this.runDir);
  }
}
