import { createHash } from 'node:crypto';
import { Arg, Int, Mutation, Query, Resolver } from 'type-graphql';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Public } from '../../src/schema/access';
import { uploadError } from '../../src/infra/http/uploads';

/**
 * Resolvers that exist only in tests, to exercise the transport (uploads, error masking) before
 * the features that use it. They are added with `startTestServer({ extraResolvers })`.
 */
@Resolver()
export class TransportProbeResolver {
  @Public()
  @Mutation(() => String, { description: 'test only: reads an upload and returns name:bytes:sha256' })
  async uploadProbe(@Arg('file', () => GraphQLUpload) file: Promise<FileUpload>): Promise<string> {
    const upload = await file;
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      for await (const chunk of upload.createReadStream()) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
    } catch (err) {
      throw uploadError(err, 'file');
    }
    return `${upload.filename}:${bytes}:${hash.digest('hex')}`;
  }

  @Public()
  @Query(() => String, {
    description: 'test only: answers after `ms` milliseconds (an in-flight request during shutdown)',
  })
  async probeSlow(@Arg('ms', () => Int) ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return `slept ${ms}`;
  }

  @Public()
  @Query(() => String, { description: 'test only: fails the way a bug or a database error would' })
  probeInternalFailure(): string {
    throw new Error('relation "users" does not exist at /srv/app/src/secret.ts: select password_hash from users');
  }
}
