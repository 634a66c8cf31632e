import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { User } from '../entities';
import type { AppContext } from '../schema/context';
import type { NodeSource } from '../schema/node';
import { UserType, readableUser } from '../modules/accounts';
import { toModel, toVersion } from './models.resolver';
import { ModelVersionType, modelId, modelVersionId } from './models.types';

/** A model's or version's id, parsed: `model:<name>` or `model:<name>@<version>`. */
const MODEL_ID = /^model:([^@]+)(?:@(.+))?$/;

/** `node(id)` for models and versions: any signed-in user, as `models` (what this process knows). */
export const modelNodes: NodeSource[] = [
  {
    type: 'Model',
    owns: (id) => MODEL_ID.test(id) && !id.includes('@'),
    load: async (ctx, id) => {
      const m = (await ctx.services.models.catalog()).find((x) => modelId(x.name) === id);
      return m ? toModel(m) : null;
    },
  },
  {
    type: 'ModelVersion',
    owns: (id) => MODEL_ID.test(id) && id.includes('@'),
    load: async (ctx, id) => {
      const versions = (await ctx.services.models.catalog()).flatMap((m) => m.versions);
      const v = versions.find((x) => modelVersionId(x.name, x.version) === id);
      return v ? toVersion(v) : null;
    },
  },
];

@Resolver(() => ModelVersionType)
export class ModelVersionUploaderResolver {
  @FieldResolver(() => UserType, {
    nullable: true,
    description:
      'The admin who uploaded it (`uploadedBy`), shown to admins and to that admin; null otherwise and for packages found on disk',
  })
  uploader(@Root() v: ModelVersionType, @Ctx() ctx: AppContext): Promise<User | null> {
    return readableUser(ctx, v.uploadedBy);
  }
}
