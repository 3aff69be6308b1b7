// The gRPC guide's config: `npx snakepit run examples/grpc.ts --config examples/grpc.config.ts`.
import { defineConfig } from 'snakepit';

export default defineConfig({
  pools: [{ name: 'default', transport: 'grpc', poolSize: 2 }],   // spawned gRPC workers, the showcase adapter
});
