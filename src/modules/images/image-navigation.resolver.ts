import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Image, Patient, User } from '../../entities';
import type { AppContext } from '../../schema/context';
import type { NodeSource } from '../../schema/node';
import { UserType, userById } from '../accounts';
import { PatientType, accessibleById } from '../patients';
import { ImageType } from './images.types';

/** `node(id)` for images: the rule of `image(id)` (the patient's owner, current sharees, admins). */
export const imageNodes: NodeSource[] = [
  { type: 'Image', table: 'images', load: (ctx, id) => accessibleById(ctx, 'image:read').load(id) },
];

/** From an image to its patient and its uploader (results: the jobs module adds Image.predictions and the rest). */
@Resolver(() => ImageType)
export class ImageNavigationResolver {
  @FieldResolver(() => PatientType, {
    nullable: true,
    description: 'The patient the image belongs to; null when the caller may no longer see it (a share taken back)',
  })
  patient(@Root() image: Image, @Ctx() ctx: AppContext): Promise<Patient | null> {
    return accessibleById(ctx, 'patient:read').load(image.patient.id);
  }

  @FieldResolver(() => UserType, {
    nullable: true,
    description: 'Who uploaded the image (shown with the image, like Patient.owner); null when the account was deleted',
  })
  uploadedBy(@Root() image: Image, @Ctx() ctx: AppContext): Promise<User | null> | null {
    return image.uploadedBy ? userById(ctx).load(image.uploadedBy.id) : null;
  }
}
