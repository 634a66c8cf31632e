import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ImageFormat } from '../../entities';
import { Connection } from '../../schema/connection';
import { Node } from '../../schema/node';
import { ImageVariant } from './image-processing';

registerEnumType(ImageFormat, { name: 'ImageFormat', description: 'Decided from the bytes, never from the file name' });
registerEnumType(ImageVariant, {
  name: 'ImageVariant',
  description:
    'ORIGINAL: the uploaded bytes; NORMALIZED: EXIF orientation applied, sRGB, at most 2048 px, no metadata; THUMBNAIL: at most 256 px JPEG',
});

@ObjectType('Image', { implements: Node })
export class ImageType {
  @Field(() => ID)
  id!: string;

  @Field(() => ImageFormat)
  format!: ImageFormat;

  @Field(() => String)
  mimeType!: string;

  @Field(() => Float, { description: 'Size of the original in bytes' })
  byteSize!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => Int, { description: 'EXIF orientation of the original (1 = upright); derived copies have it applied' })
  orientation!: number;

  @Field(() => String, { description: 'sha256 of the original bytes' })
  sha256!: string;

  @Field(() => String, { nullable: true })
  originalName?: string | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class ImageConnection extends Connection(ImageType, 'Image') {}
