import { Field, ObjectType } from 'type-graphql';

/**
 * A signed, expiring link to a file the server produces on request (exports, reports). One type for
 * every such download, so clients handle them alike: fetch `url` before `expiresAt`, no session needed.
 */
@ObjectType({ description: 'A signed link to a download: fetch it before it expires, no Authorization header needed' })
export class Download {
  @Field(() => String, { description: 'Signed URL of the file; it stops working at expiresAt' }) url!: string;
  @Field(() => Date, { description: 'When the link stops working (a download already started runs to its end)' })
  expiresAt!: Date;
}
