/** What an instance with gRPC pools owns: the run directory, the workers' token and the host server. */
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../../config/index.js';
import type { Logger } from '../../logger.js';
import { createRunDir, removeRunDir } from '../../process/run-dir.js';
import type { PoolContext } from '../../pool/pool-options.js';
import { HostServer } from './host-server.js';

export class GrpcHostResources {
  private constructor(
    readonly runDir: string,
    readonly server: HostServer,
    readonly poolContext: NonNullable<PoolContext['grpc']>,
  ) {}

  /** Creates the run directory (0700), the workers' token, and starts the host server. */
  static async create(options: { runId: string; config: ResolvedConfig; logger: Logger }): Promise<GrpcHostResources> {
    const runDir = createRunDir(options.runId);
    try {
      const server = await HostServer.start({
        runDir,
        tcp: options.config.grpcPort === undefined ? undefined : { host: options.config.grpcHost, port: options.config.grpcPort },
        logger: options.logger.child({ category: 'grpc' }),
      });
      return new GrpcHostResources(runDir, server, { socketDir: runDir, workerToken: randomBytes(32).toString('hex') });
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
