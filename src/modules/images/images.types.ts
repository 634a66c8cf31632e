import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ImageFormat } from '../../entities';
import { Connection } from '../../schema/connection';
import { Node } from '../../schema/node';
import { ImageVariant } from './image-processing';

registerEnumType(ImageFormat, {
  name: 'ImageFormat',
  description: 'Decided from the bytes, never from the file name',
  valuesConfig: {
    JPEG: { description: 'image/jpeg' },
    PNG: { description: 'image/png' },
    WEBP: { description: 'image/webp' },
    TIFF: { description: 'image/tiff' },
  },
});
registerEnumType(ImageVariant, {
  name: 'ImageVariant',
  description:
    'ORIGINAL: the uploaded bytes; NORMALIZED: EXIF orientation applied, sRGB, at most 2048 px, no metadata; THUMBNAIL: at most 256 px JPEG',
  valuesConfig: {
    ORIGINAL: { description: 'The uploaded bytes, unchanged (EXIF included: it is the clinical record)' },
    NORMALIZED: {
      description:
        'EXIF orientation applied, sRGB, longest side at most 2048 px, JPEG q90 (PNG with transparency), no metadata',
    },
    THUMBNAIL: { description: 'As NORMALIZED, longest side at most 256 px, JPEG q80: for lists' },
  },
});

@ObjectType('Image', {
  implements: Node,
  description: 'An uploaded image of a patient (optionally of one lesion); visible to whoever sees the patient',
})
export class ImageType {
  @Field(() => ID, { description: 'Globally unique id; what image(id), node(id) and classifyImage take' })
  id!: string;

  @Field(() => ImageFormat, { description: 'Format of the original, from its bytes' })
  format!: ImageFormat;

  @Field(() => String, { description: 'Media type of the original, e.g. image/jpeg' })
  mimeType!: string;

  @Field(() => Float, { description: 'Size of the original in bytes' })
  byteSize!: number;

  @Field(() => Int, { description: 'Width of the original in pixels, as stored (before EXIF orientation)' })
  width!: number;

  @Field(() => Int, { description: 'Height of the original in pixels, as stored (before EXIF orientation)' })
  height!: number;

  @Field(() => Int, { description: 'EXIF orientation of the original (1 = upright); derived copies have it applied' })
  orientation!: number;

  @Field(() => String, { description: 'sha256 of the original bytes' })
  sha256!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The client’s file name, for display only (control characters removed, 255 characters at most)',
  })
  originalName?: string | null;

  @Field(() => Date, { description: 'When it was uploaded' })
  createdAt!: Date;
}

@ObjectType({ description: 'A page of images, newest first' })
export class ImageConnection extends Connection(ImageType, 'Image') {}
