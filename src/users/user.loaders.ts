import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { byKeys } from '../db/by-keys';
import { User } from './user.entity';

export function createUserLoaders(dataSource: DataSource, viewer: Viewer) {
  return {
    /** Users the viewer may see: an admin sees everyone, a member only themself. */
    userById: new DataLoader<string, User | null>(async (ids) => {
      const visible = viewer.isAdmin ? [...ids] : ids.filter((id) => id === viewer.id);
      const rows = visible.length ? await dataSource.getRepository(User).findBy({ id: In(visible) }) : [];
      return byKeys(ids, rows, (u) => u.id);
    }),
  };
}
