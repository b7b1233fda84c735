import { Skill } from './skill.entity';

export function skillColumns(alias: string, prefix = ''): string {
  return ['id', 'name', 'description', 'created_at', 'deleted_at'].map((c) => `${alias}.${c} AS "${prefix}${c}"`).join(', ');
}

export function toSkill(row: Record<string, any>, prefix = ''): Skill {
  return Object.assign(new Skill(), {
    id: row[`${prefix}id`],
    name: row[`${prefix}name`],
    description: row[`${prefix}description`],
    createdAt: row[`${prefix}created_at`],
    deletedAt: row[`${prefix}deleted_at`],
  });
}
